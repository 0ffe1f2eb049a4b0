import { EgressMode, NetworkPricing, HOURS_PER_MONTH } from './pricing';

// Hand-checked figures (us-east-1): interface endpoint $0.01/AZ-hour -> $7.30/month per endpoint per AZ;
// NAT gateway $0.045/hour -> $32.85/month, its public IPv4 $0.005/hour -> $3.65/month.
describe('NetworkPricing.estimate', () => {
  test('GIVEN the seed 000 design (6 interface endpoints) in 2 AZs THEN $87.60/month, not the $43.20 the seed claimed', () => {
    const e = NetworkPricing.estimate({ interfaceEndpoints: ['ecr.api', 'ecr.dkr', 'logs', 'ecs', 'ecs-agent', 'ecs-telemetry'], endpointAzs: 2 });
    expect(e.totalMonthlyUsd).toBe(87.6);
    expect(e.lineItems[0]).toEqual(expect.objectContaining({ quantity: 12 * HOURS_PER_MONTH, unit: 'endpoint-AZ-hours', unitPriceUsd: 0.01, monthlyUsd: 87.6 }));
  });

  test('GIVEN the Fargate minimum (3 endpoints) in 2 AZs THEN $43.80; in 1 AZ $21.90', () => {
    expect(NetworkPricing.estimate({ interfaceEndpoints: ['ecr.api', 'ecr.dkr', 'logs'], endpointAzs: 2 }).totalMonthlyUsd).toBe(43.8);
    expect(NetworkPricing.estimate({ interfaceEndpoints: ['ecr.api', 'ecr.dkr', 'logs'], endpointAzs: 1 }).totalMonthlyUsd).toBe(21.9);
  });

  test('GIVEN one NAT gateway THEN $32.85 + $3.65 IPv4 = $36.50 fixed, plus $0.045/GB', () => {
    const e = NetworkPricing.estimate({
      interfaceEndpoints: [], endpointAzs: 0, egress: EgressMode.NAT_GATEWAY, natGateways: 1, gbProcessedPerMonth: 100,
    });
    expect(e.fixedMonthlyUsd).toBe(36.5);
    expect(e.perGbMonthlyUsd).toBe(4.5);
    expect(e.totalMonthlyUsd).toBe(41);
  });

  test('GIVEN one NAT gateway per AZ (2) THEN $73.00 fixed', () => {
    const e = NetworkPricing.estimate({ interfaceEndpoints: [], endpointAzs: 0, egress: EgressMode.NAT_GATEWAY, natGateways: 2 });
    expect(e.fixedMonthlyUsd).toBe(73);
  });

  test('GIVEN a NAT instance THEN t4g.nano $3.07 + IPv4 $3.65 and no per-GB fee', () => {
    const e = NetworkPricing.estimate({ interfaceEndpoints: [], endpointAzs: 0, egress: EgressMode.NAT_INSTANCE, gbProcessedPerMonth: 500 });
    expect(e.totalMonthlyUsd).toBe(6.72);
    expect(e.perGbMonthlyUsd).toBe(0);
  });

  test('GIVEN endpoints with traffic THEN $0.01/GB is added', () => {
    const e = NetworkPricing.estimate({ interfaceEndpoints: ['logs'], endpointAzs: 1, gbProcessedPerMonth: 250 });
    expect(e.totalMonthlyUsd).toBe(9.8);
  });

  test('GIVEN another region THEN its prices apply; an unknown region needs explicit prices', () => {
    expect(NetworkPricing.estimate({ region: 'eu-central-1', interfaceEndpoints: ['logs'], endpointAzs: 1 }).totalMonthlyUsd).toBe(8.76);
    expect(() => NetworkPricing.estimate({ region: 'xx-nowhere-1', interfaceEndpoints: [], endpointAzs: 1 })).toThrow(/No prices for region 'xx-nowhere-1'/);
    const prices = NetworkPricing.pricesFor('us-east-1');
    expect(NetworkPricing.estimate({ region: 'xx-nowhere-1', prices, interfaceEndpoints: ['logs'], endpointAzs: 1 }).totalMonthlyUsd).toBe(7.3);
  });

  test('GIVEN bad inputs THEN clear errors', () => {
    expect(() => NetworkPricing.estimate({ interfaceEndpoints: [], endpointAzs: 1, gbProcessedPerMonth: -5 })).toThrow(/gbProcessedPerMonth must be >= 0/);
    expect(() => NetworkPricing.estimate({ interfaceEndpoints: [], endpointAzs: 1.5 })).toThrow(/endpointAzs must be a whole number/);
  });
});

describe('NetworkPricing.breakEvenGbPerMonth', () => {
  test('GIVEN 3 endpoints x 2 AZ vs one NAT gateway THEN ~209 GB/month (below it the NAT gateway is cheaper)', () => {
    const endpoints = NetworkPricing.estimate({ interfaceEndpoints: ['ecr.api', 'ecr.dkr', 'logs'], endpointAzs: 2 });
    const nat = NetworkPricing.estimate({ interfaceEndpoints: [], endpointAzs: 0, egress: EgressMode.NAT_GATEWAY, natGateways: 1 });
    // (43.80 - 36.50) / (0.045 - 0.01) = 208.57
    expect(NetworkPricing.breakEvenGbPerMonth(endpoints, nat)).toBe(209);
  });

  test('GIVEN endpoints cheaper than the NAT at zero traffic THEN 0', () => {
    const endpoints = NetworkPricing.estimate({ interfaceEndpoints: ['ecr.api', 'ecr.dkr', 'logs'], endpointAzs: 1 });
    const nat = NetworkPricing.estimate({ interfaceEndpoints: [], endpointAzs: 0, egress: EgressMode.NAT_GATEWAY, natGateways: 1 });
    expect(NetworkPricing.breakEvenGbPerMonth(endpoints, nat)).toBe(0);
  });
});
