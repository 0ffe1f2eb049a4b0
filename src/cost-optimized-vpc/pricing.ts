/**
 * Monthly cost of private networking for container workloads: interface endpoints vs NAT.
 *
 * A pure function over a small price table, so the construct, the README cost table and users'
 * own planning use the same figures. Prices are on-demand list prices in USD from the public AWS
 * pricing pages for Amazon VPC (PrivateLink interface endpoints, NAT gateways, public IPv4 addresses)
 * and Amazon EC2 (t4g.nano for a NAT instance), as recorded on PRICE_TABLE_DATE. They change; check
 * the AWS Pricing Calculator before you commit to a design. Data transfer to the internet and between
 * AZs is the same whichever way traffic leaves, so it is not included.
 */

/** The date the price table below was recorded. */
export const PRICE_TABLE_DATE = '2026-11-01';

/** Where the figures come from. */
export const PRICE_TABLE_SOURCE = 'AWS public pricing pages: Amazon VPC pricing (PrivateLink, NAT gateway, public IPv4), Amazon EC2 on-demand (t4g.nano)';

/** Hours in a billing month as AWS prices it (365 * 24 / 12). */
export const HOURS_PER_MONTH = 730;

/** Prices for one region, USD. */
export interface RegionPrices {
  /** Interface VPC endpoint, per endpoint per AZ per hour. */
  readonly interfaceEndpointHour: number;
  /** Interface VPC endpoint data processed, per GB (first PB tier). */
  readonly interfaceEndpointGb: number;
  /** NAT gateway, per gateway per hour. */
  readonly natGatewayHour: number;
  /** NAT gateway data processed, per GB. */
  readonly natGatewayGb: number;
  /** Public IPv4 address (in use or idle), per address per hour. */
  readonly publicIpv4Hour: number;
  /** t4g.nano on-demand (Linux), per hour: the smallest sensible NAT instance. */
  readonly natInstanceHour: number;
}

/** The regions the price table knows. Others: pass `prices` explicitly. */
export const PRICE_TABLE: { [region: string]: RegionPrices } = {
  'us-east-1': { interfaceEndpointHour: 0.01, interfaceEndpointGb: 0.01, natGatewayHour: 0.045, natGatewayGb: 0.045, publicIpv4Hour: 0.005, natInstanceHour: 0.0042 },
  'us-west-2': { interfaceEndpointHour: 0.01, interfaceEndpointGb: 0.01, natGatewayHour: 0.045, natGatewayGb: 0.045, publicIpv4Hour: 0.005, natInstanceHour: 0.0042 },
  'eu-west-1': { interfaceEndpointHour: 0.011, interfaceEndpointGb: 0.01, natGatewayHour: 0.048, natGatewayGb: 0.048, publicIpv4Hour: 0.005, natInstanceHour: 0.0046 },
  'eu-central-1': { interfaceEndpointHour: 0.012, interfaceEndpointGb: 0.01, natGatewayHour: 0.052, natGatewayGb: 0.052, publicIpv4Hour: 0.005, natInstanceHour: 0.0048 },
  'ap-southeast-1': { interfaceEndpointHour: 0.013, interfaceEndpointGb: 0.01, natGatewayHour: 0.059, natGatewayGb: 0.059, publicIpv4Hour: 0.005, natInstanceHour: 0.0053 },
};

/** How private subnets reach the internet, if at all. */
export enum EgressMode {
  /** No route to the internet: AWS services through endpoints only (default). */
  NONE = 'NONE',
  /** One NAT instance (t4g.nano) for the whole VPC: cheap, not highly available. */
  NAT_INSTANCE = 'NAT_INSTANCE',
  /** Managed NAT gateways, one per AZ for high availability. */
  NAT_GATEWAY = 'NAT_GATEWAY',
}

/** What to price in `NetworkPricing.estimate()`: the endpoints, their AZs, the egress mode and the traffic. */
export interface NetworkCostOptions {
  /** Region whose prices apply. @default 'us-east-1' */
  readonly region?: string;
  /** Explicit prices, for a region not in PRICE_TABLE. @default - PRICE_TABLE[region] */
  readonly prices?: RegionPrices;
  /** Interface endpoints (service short names), each billed per AZ it is placed in. */
  readonly interfaceEndpoints: string[];
  /** AZs the interface endpoints are placed in. */
  readonly endpointAzs: number;
  /** Outbound internet access. @default EgressMode.NONE */
  readonly egress?: EgressMode;
  /** NAT gateways (with EgressMode.NAT_GATEWAY), usually one per AZ. @default 1 */
  readonly natGateways?: number;
  /** GB per month through the interface endpoints or the NAT (not S3/DynamoDB: their gateway endpoints are free). @default 0 */
  readonly gbProcessedPerMonth?: number;
}

/** One line of an estimate. */
export interface CostLineItem {
  /** What is billed, e.g. `Interface endpoints (ecr.api, logs) x 2 AZ` or `NAT gateway x 1`. */
  readonly item: string;
  /** Billed quantity per month, in `unit` (hours are counted over a 730-hour month). */
  readonly quantity: number;
  /** Unit of `quantity` and `unitPriceUsd`, e.g. `endpoint-AZ-hours`, `gateway-hours`, `GB`, or `free`. */
  readonly unit: string;
  /** Price of one `unit` in US dollars, from the region's price table. */
  readonly unitPriceUsd: number;
  /** `quantity` x `unitPriceUsd`, rounded to cents: this line's monthly cost in US dollars. */
  readonly monthlyUsd: number;
}

/** Monthly cost of a network configuration, itemized, as returned by `NetworkPricing.estimate()`. */
export interface NetworkCostEstimate {
  /** Region whose prices were applied. */
  readonly region: string;
  /** One line per billed item (endpoint-AZ-hours, NAT hours, public IPv4 addresses, data processed, free gateway endpoints). */
  readonly lineItems: CostLineItem[];
  /** Fixed part: what the configuration costs with no traffic. */
  readonly fixedMonthlyUsd: number;
  /** Variable part at `gbProcessedPerMonth`. */
  readonly perGbMonthlyUsd: number;
  /** Sum of all line items in US dollars per month (`fixedMonthlyUsd` + `perGbMonthlyUsd`). */
  readonly totalMonthlyUsd: number;
  /** Date (YYYY-MM-DD) the built-in prices were recorded; AWS prices change, so check them against the AWS pricing pages. */
  readonly priceTableDate: string;
}

const cents = (x: number): number => Math.round(x * 100) / 100;

export function pricesFor(region: string): RegionPrices {
  const prices = PRICE_TABLE[region];
  if (!prices) {
    throw new Error(`No prices for region '${region}' (known: ${Object.keys(PRICE_TABLE).join(', ')}); pass 'prices' explicitly`);
  }
  return prices;
}

/** Prices a networking configuration as line items and a monthly total (USD). */
export function estimateNetworkCost(options: NetworkCostOptions): NetworkCostEstimate {
  const region = options.region ?? 'us-east-1';
  const p = options.prices ?? pricesFor(region);
  const gb = options.gbProcessedPerMonth ?? 0;
  const egress = options.egress ?? EgressMode.NONE;
  if (gb < 0 || !Number.isFinite(gb)) throw new Error(`gbProcessedPerMonth must be >= 0, got ${gb}`);
  if (!Number.isInteger(options.endpointAzs) || options.endpointAzs < 0) throw new Error(`endpointAzs must be a whole number >= 0, got ${options.endpointAzs}`);

  const items: CostLineItem[] = [];
  const endpointHours = options.interfaceEndpoints.length * options.endpointAzs;
  if (endpointHours > 0) {
    items.push({
      item: `Interface endpoints (${options.interfaceEndpoints.join(', ')}) x ${options.endpointAzs} AZ`,
      quantity: endpointHours * HOURS_PER_MONTH,
      unit: 'endpoint-AZ-hours',
      unitPriceUsd: p.interfaceEndpointHour,
      monthlyUsd: cents(endpointHours * HOURS_PER_MONTH * p.interfaceEndpointHour),
    });
  }
  // Traffic goes through the NAT when there is one, else through the endpoints.
  let perGb = 0;
  if (egress === EgressMode.NAT_GATEWAY) {
    const n = options.natGateways ?? 1;
    items.push({ item: `NAT gateway x ${n}`, quantity: n * HOURS_PER_MONTH, unit: 'gateway-hours', unitPriceUsd: p.natGatewayHour, monthlyUsd: cents(n * HOURS_PER_MONTH * p.natGatewayHour) });
    items.push({ item: `Public IPv4 address x ${n} (one per NAT gateway)`, quantity: n * HOURS_PER_MONTH, unit: 'address-hours', unitPriceUsd: p.publicIpv4Hour, monthlyUsd: cents(n * HOURS_PER_MONTH * p.publicIpv4Hour) });
    perGb = p.natGatewayGb;
    if (gb > 0) items.push({ item: 'NAT gateway data processed', quantity: gb, unit: 'GB', unitPriceUsd: p.natGatewayGb, monthlyUsd: cents(gb * p.natGatewayGb) });
  } else if (egress === EgressMode.NAT_INSTANCE) {
    items.push({ item: 'NAT instance (t4g.nano) x 1', quantity: HOURS_PER_MONTH, unit: 'instance-hours', unitPriceUsd: p.natInstanceHour, monthlyUsd: cents(HOURS_PER_MONTH * p.natInstanceHour) });
    items.push({ item: 'Public IPv4 address x 1 (NAT instance)', quantity: HOURS_PER_MONTH, unit: 'address-hours', unitPriceUsd: p.publicIpv4Hour, monthlyUsd: cents(HOURS_PER_MONTH * p.publicIpv4Hour) });
    // A NAT instance charges no per-GB processing fee (internet data transfer is billed either way).
  } else if (endpointHours > 0) {
    perGb = p.interfaceEndpointGb;
    if (gb > 0) items.push({ item: 'Interface endpoint data processed', quantity: gb, unit: 'GB', unitPriceUsd: p.interfaceEndpointGb, monthlyUsd: cents(gb * p.interfaceEndpointGb) });
  }
  items.push({ item: 'Gateway endpoints (S3, DynamoDB)', quantity: 0, unit: 'free', unitPriceUsd: 0, monthlyUsd: 0 });

  const total = cents(items.reduce((sum, i) => sum + i.monthlyUsd, 0));
  const variable = cents(gb * perGb);
  return {
    region,
    lineItems: items,
    fixedMonthlyUsd: cents(total - variable),
    perGbMonthlyUsd: variable,
    totalMonthlyUsd: total,
    priceTableDate: PRICE_TABLE_DATE,
  };
}

/**
 * Traffic (GB/month) at which endpoints and NAT cost the same. Endpoints cost E + e*GB, NAT gateways
 * N + n*GB with n > e: below the break-even the NAT is cheaper, above it the endpoints are.
 * 0 when the endpoints are cheaper at any traffic (E <= N); undefined when they never are.
 */
export function breakEvenGbPerMonth(endpoints: NetworkCostEstimate, nat: NetworkCostEstimate, prices: RegionPrices): number | undefined {
  const p = prices;
  const perGbSaving = p.natGatewayGb - p.interfaceEndpointGb;
  const fixedPremium = endpoints.fixedMonthlyUsd - nat.fixedMonthlyUsd;
  if (fixedPremium <= 0) return 0;
  if (perGbSaving <= 0) return undefined;
  return Math.round(fixedPremium / perGbSaving);
}

/**
 * Prices private networking configurations (interface endpoints vs NAT) — the same figures the
 * CostOptimizedVpc construct reports and the README cost table is generated from.
 */
export class NetworkPricing {
  /** The date the price table was recorded. */
  public static readonly PRICE_TABLE_DATE = PRICE_TABLE_DATE;
  /** Where the price table comes from. */
  public static readonly PRICE_TABLE_SOURCE = PRICE_TABLE_SOURCE;

  /** Regions with built-in prices. */
  public static knownRegions(): string[] {
    return Object.keys(PRICE_TABLE);
  }

  /** Built-in prices of a region; throws for a region not in the table. */
  public static pricesFor(region: string): RegionPrices {
    return pricesFor(region);
  }

  /** Line items and monthly total of a configuration. */
  public static estimate(options: NetworkCostOptions): NetworkCostEstimate {
    return estimateNetworkCost(options);
  }

  /**
   * Traffic (GB/month) at which the endpoint design and the NAT design cost the same; below it the
   * NAT design is cheaper. 0 when the endpoints are cheaper at any traffic; undefined when never.
   */
  public static breakEvenGbPerMonth(endpoints: NetworkCostEstimate, nat: NetworkCostEstimate, region?: string): number | undefined {
    return breakEvenGbPerMonth(endpoints, nat, pricesFor(region ?? endpoints.region));
  }

  private constructor() {}
}
