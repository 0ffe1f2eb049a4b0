import { Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * The granular cdk-nag finding id (`Resource::...`) of an IAM resource string that may contain
 * tokens (partition, names of resources in the stack), rendered the way cdk-nag renders resolved
 * CloudFormation values: `{ Ref: X }` → `<X>`, `Fn::GetAtt [A, B]` → `<A.B>`, `Fn::Join` joined,
 * other intrinsics as JSON. Acknowledging with this id limits the acknowledgement to exactly that
 * resource instead of the whole rule.
 */
export function nagResourceFinding(scope: IConstruct, resource: string): string {
  return `Resource::${flatten(Stack.of(scope).resolve(resource))}`;
}

function flatten(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/}/g, '>');
  const o = node as Record<string, any>;
  if (o['Fn::Join']) {
    const [delimiter, items] = o['Fn::Join'] as [string, unknown[]];
    return items.map(flatten).join(delimiter);
  }
  if (o['Fn::Sub']) return flatten(o['Fn::Sub']);
  if (o['Fn::GetAtt']) {
    const [resource, attribute] = o['Fn::GetAtt'] as [unknown, unknown];
    return `<${flatten(resource)}.${flatten(attribute)}>`;
  }
  if (o['Fn::ImportValue']) return flatten(o['Fn::ImportValue']);
  if (o.Ref) return `<${flatten(o.Ref)}>`;
  return JSON.stringify(node);
}
