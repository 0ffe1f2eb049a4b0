import { App, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { FIXED_PRICES, fixedResourceLineItems } from './fixed-costs';

function stackWithResources(): { stack: Stack; keys: Construct; service: Construct } {
  const stack = new Stack(new App(), 'S', { env: { account: '111111111111', region: 'us-east-1' } });
  const keys = new Construct(stack, 'Keys');
  new kms.Key(keys, 'One');
  new kms.Key(keys, 'Two');
  const service = new Construct(stack, 'Service');
  const vpc = new ec2.Vpc(service, 'Vpc', { maxAzs: 2, natGateways: 0 });
  new elbv2.ApplicationLoadBalancer(service, 'Alb', { vpc });
  new elbv2.NetworkLoadBalancer(service, 'Nlb', { vpc });
  new elasticache.CfnReplicationGroup(service, 'Cache', { replicationGroupDescription: 'c', cacheNodeType: 'cache.t4g.micro', engine: 'valkey', numNodeGroups: 1, replicasPerNodeGroup: 1 });
  new secretsmanager.Secret(service, 'Secret');
  const metric = new cloudwatch.Metric({ namespace: 'N', metricName: 'M', period: Duration.minutes(5) });
  metric.createAlarm(service, 'A1', { threshold: 1, evaluationPeriods: 1 });
  metric.createAlarm(service, 'A2', { threshold: 2, evaluationPeriods: 1 });
  new cloudwatch.Dashboard(service, 'Dashboard');
  return { stack, keys, service };
}

describe('fixedResourceLineItems', () => {
  test('GIVEN keys, alarms, a dashboard, a secret, load balancers and a cache WHEN walked THEN each is priced by its count', () => {
    const { stack } = stackWithResources();
    const items = Object.fromEntries(fixedResourceLineItems(stack).map((i) => [i.item, i]));
    expect(items['KMS customer-managed keys x 2']).toEqual({ item: 'KMS customer-managed keys x 2', quantity: 2, unit: 'key-months', unitPriceUsd: 1, monthlyUsd: 2 });
    expect(items['CloudWatch alarms x 2 (standard resolution)'].monthlyUsd).toBe(0.2);
    expect(items['CloudWatch dashboards x 1'].monthlyUsd).toBe(3);
    expect(items['Secrets Manager secrets x 1'].monthlyUsd).toBe(0.4);
    // the Network Load Balancer is not an ALB
    expect(items['Application Load Balancers x 1 (LCUs per use, not included)']).toEqual(expect.objectContaining({ quantity: 730, monthlyUsd: 16.43 }));
    // a primary and a replica
    expect(items['ElastiCache (Valkey) cache.t4g.micro nodes x 2']).toEqual(expect.objectContaining({ quantity: 1460, unitPriceUsd: FIXED_PRICES.valkeyNodeHour['cache.t4g.micro'], monthlyUsd: 18.69 }));
  });

  test('GIVEN a subtree to skip WHEN walked THEN its resources are not counted', () => {
    const { stack, keys, service } = stackWithResources();
    expect(fixedResourceLineItems(stack, [keys]).map((i) => i.item)).not.toContain('KMS customer-managed keys x 2');
    expect(fixedResourceLineItems(stack, [service]).map((i) => i.item)).toEqual(['KMS customer-managed keys x 2']);
  });

  test('GIVEN a cache node type without a price WHEN walked THEN it throws naming it', () => {
    const stack = new Stack(new App(), 'S');
    new elasticache.CfnReplicationGroup(stack, 'Cache', { replicationGroupDescription: 'c', cacheNodeType: 'cache.x9.huge', engine: 'valkey' });
    expect(() => fixedResourceLineItems(stack)).toThrow(/No built-in price for cache node type 'cache.x9.huge'/);
  });
});
