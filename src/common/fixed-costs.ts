/**
 * What a construct costs each month whether or not documents arrive, found by walking the resources
 * it created: every customer-managed KMS key, CloudWatch alarm and dashboard, Secrets Manager secret,
 * Application Load Balancer, ElastiCache node and WAF web ACL in its tree. Counting the synthesized
 * resources instead of listing them by hand keeps the estimate right when a construct gains a key or
 * an alarm.
 *
 * Prices: on-demand list prices in us-east-1, USD, from the public AWS pricing pages named in
 * FIXED_PRICE_SOURCES, as recorded on FIXED_PRICE_DATE. They change; check the AWS Pricing
 * Calculator before you commit to a design.
 */
import { CfnResource, Token } from 'aws-cdk-lib';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { IConstruct } from 'constructs';
import { CostLineItem, HOURS_PER_MONTH } from '../cost-optimized-vpc/pricing';

/** The date the fixed prices below were recorded. */
export const FIXED_PRICE_DATE = '2026-12-03';

/** Monthly and hourly list prices of the fixed items, us-east-1, USD. */
export const FIXED_PRICES = {
  /** AWS KMS: each customer-managed key, per month (prorated hourly). */
  kmsKeyMonth: 1,
  /** Amazon CloudWatch: standard-resolution alarm, per alarm metric per month. */
  alarmMonth: 0.1,
  /** Amazon CloudWatch: each dashboard per month (an account's first three are free; not counted here). */
  dashboardMonth: 3,
  /** AWS Secrets Manager: each secret per month. */
  secretMonth: 0.4,
  /** Elastic Load Balancing: Application Load Balancer, per hour (LCUs are billed per use, not here). */
  albHour: 0.0225,
  /** AWS WAF: each web ACL per month (rules and requests are billed on top). */
  webAclMonth: 5,
  /** Amazon ElastiCache for Valkey, node-based, per node-hour, by node type (Valkey is priced 20% below Redis OSS). */
  valkeyNodeHour: {
    'cache.t4g.micro': 0.0128,
    'cache.t4g.small': 0.0256,
    'cache.t4g.medium': 0.052,
  } as { readonly [nodeType: string]: number },
};

/** Where FIXED_PRICES come from. */
export const FIXED_PRICE_SOURCES = 'AWS public pricing pages, us-east-1: AWS KMS (customer-managed key), Amazon CloudWatch (alarms, dashboards), '
  + 'AWS Secrets Manager, Elastic Load Balancing (Application Load Balancer), AWS WAF (web ACL), Amazon ElastiCache (Valkey, node-based)';

const cents = (x: number): number => Math.round(x * 100) / 100;

function item(name: string, quantity: number, unit: string, unitPriceUsd: number): CostLineItem {
  return { item: name, quantity, unit, unitPriceUsd, monthlyUsd: cents(quantity * unitPriceUsd) };
}

/** The CloudFormation resources in `scope`'s tree, without the trees of `skip` (priced elsewhere). */
export function resourcesOf(scope: IConstruct, skip: IConstruct[] = []): CfnResource[] {
  const skipped = new Set(skip.map((c) => c.node.path));
  const out: CfnResource[] = [];
  const visit = (c: IConstruct): void => {
    if (skipped.has(c.node.path)) return;
    if (CfnResource.isCfnResource(c)) out.push(c);
    for (const child of c.node.children) visit(child);
  };
  visit(scope);
  return out;
}

/** A number known at synth, else `fallback`. */
const known = (value: unknown, fallback: number): number => (typeof value === 'number' && !Token.isUnresolved(value) ? value : fallback);

/** Nodes of an ElastiCache replication group: primary and replicas of each node group. */
function cacheNodes(group: elasticache.CfnReplicationGroup): number {
  if (group.numCacheClusters !== undefined) return known(group.numCacheClusters, 1);
  return known(group.numNodeGroups, 1) * (1 + known(group.replicasPerNodeGroup, 0));
}

/**
 * Line items of the fixed monthly costs of the resources in `scope`'s tree (keys, alarms, dashboards,
 * secrets, load balancers, cache nodes, web ACLs), skipping the trees of `skip`. Each item names how
 * many there are; a cache node type without a built-in price throws, naming it.
 */
export function fixedResourceLineItems(scope: IConstruct, skip: IConstruct[] = []): CostLineItem[] {
  const resources = resourcesOf(scope, skip);
  const count = (type: string) => resources.filter((r) => r.cfnResourceType === type).length;
  const items: CostLineItem[] = [];
  const keys = count('AWS::KMS::Key');
  if (keys) items.push(item(`KMS customer-managed keys x ${keys}`, keys, 'key-months', FIXED_PRICES.kmsKeyMonth));
  const alarms = count('AWS::CloudWatch::Alarm');
  if (alarms) items.push(item(`CloudWatch alarms x ${alarms} (standard resolution)`, alarms, 'alarm-months', FIXED_PRICES.alarmMonth));
  const dashboards = count('AWS::CloudWatch::Dashboard');
  if (dashboards) items.push(item(`CloudWatch dashboards x ${dashboards}`, dashboards, 'dashboard-months', FIXED_PRICES.dashboardMonth));
  const secrets = count('AWS::SecretsManager::Secret');
  if (secrets) items.push(item(`Secrets Manager secrets x ${secrets}`, secrets, 'secret-months', FIXED_PRICES.secretMonth));
  const albs = resources.filter((r) => r instanceof elbv2.CfnLoadBalancer && (r.type ?? 'application') === 'application').length;
  if (albs) items.push(item(`Application Load Balancers x ${albs} (LCUs per use, not included)`, albs * HOURS_PER_MONTH, 'load-balancer-hours', FIXED_PRICES.albHour));
  for (const group of resources.filter((r): r is elasticache.CfnReplicationGroup => r instanceof elasticache.CfnReplicationGroup)) {
    const nodeType = String(group.cacheNodeType);
    const price = FIXED_PRICES.valkeyNodeHour[nodeType];
    if (price === undefined) {
      throw new Error(`No built-in price for cache node type '${nodeType}' (known: ${Object.keys(FIXED_PRICES.valkeyNodeHour).join(', ')})`);
    }
    const nodes = cacheNodes(group);
    items.push(item(`ElastiCache (Valkey) ${nodeType} nodes x ${nodes}`, nodes * HOURS_PER_MONTH, 'node-hours', price));
  }
  const webAcls = count('AWS::WAFv2::WebACL');
  if (webAcls) items.push(item(`WAF web ACLs x ${webAcls} (rules and requests per use, not included)`, webAcls, 'web-ACL-months', FIXED_PRICES.webAclMonth));
  return items;
}
