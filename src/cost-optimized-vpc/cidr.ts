import * as ec2 from 'aws-cdk-lib/aws-ec2';

/** An IPv4 CIDR block as a 32-bit network address and prefix length. */
export interface ParsedCidr {
  readonly network: number;
  readonly prefix: number;
}

/** Parses 'a.b.c.d/n'; undefined when malformed. The network is masked to the prefix. */
export function parseCidr(cidr: string): ParsedCidr | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr.trim());
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  // Plain arithmetic instead of bit operations: JavaScript's bitwise operators are signed 32-bit.
  const address = ((octets[0] * 256 + octets[1]) * 256 + octets[2]) * 256 + octets[3];
  const blockSize = 2 ** (32 - prefix);
  return { network: Math.floor(address / blockSize) * blockSize, prefix };
}

function range(c: ParsedCidr): [number, number] {
  const size = 2 ** (32 - c.prefix);
  return [c.network, c.network + size - 1];
}

/** True when `inner` lies entirely inside `outer`. */
export function cidrContains(outer: string, inner: string): boolean {
  const o = parseCidr(outer);
  const i = parseCidr(inner);
  if (!o || !i) return false;
  const [os, oe] = range(o);
  const [is, ie] = range(i);
  return is >= os && ie <= oe;
}

/** True when the two blocks share any address. */
export function cidrsOverlap(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  if (!x || !y) return false;
  const [xs, xe] = range(x);
  const [ys, ye] = range(y);
  return xs <= ye && ys <= xe;
}

/**
 * `ec2.IIpAddresses` that hands out the subnet CIDRs the user chose, in the order ec2.Vpc asks for
 * them (all public subnets, one per AZ, then all private ones).
 */
export class ExplicitSubnetCidrs implements ec2.IIpAddresses {
  constructor(
    private readonly vpcCidr: string,
    private readonly publicCidrs: string[] = [],
    private readonly privateCidrs: string[] = [],
  ) {}

  allocateVpcCidr(): ec2.VpcIpamOptions {
    return { cidrBlock: this.vpcCidr };
  }

  allocateSubnetsCidr(input: ec2.AllocateCidrRequest): ec2.SubnetIpamOptions {
    const queues: { [type: string]: string[] } = {
      [ec2.SubnetType.PUBLIC]: [...this.publicCidrs],
      [ec2.SubnetType.PRIVATE_ISOLATED]: [...this.privateCidrs],
      [ec2.SubnetType.PRIVATE_WITH_EGRESS]: [...this.privateCidrs],
    };
    return {
      allocatedSubnets: input.requestedSubnets.map((request) => {
        const cidr = queues[request.configuration.subnetType]?.shift();
        if (!cidr) throw new Error(`CostOptimizedVpc: no CIDR left for subnet ${request.configuration.name} in ${request.availabilityZone}`);
        return { cidr };
      }),
    };
  }
}
