import { AspectPriority, Aspects, CfnResource, Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * A cdk-nag finding that is right for a construct's design, acknowledged on the exact resource.
 *
 * The library acknowledges its own by-design findings so that a user who runs cdk-nag on their app
 * does not have to suppress our internals. It does so without a runtime dependency on cdk-nag, in
 * the two forms the two cdk-nag majors read:
 * - cdk-nag 2 (an Aspect) reads `cdk_nag.rules_to_suppress` metadata on the CloudFormation resource;
 * - cdk-nag 3 (a policy-validation plugin) reads aws-cdk-lib's `Validations.of(x).acknowledge()`,
 *   one rule id per call, with granular findings written as `RuleId[FindingId]`.
 */
export interface NagAcknowledgement {
  /** Rule id, e.g. `AwsSolutions-IAM5` or `NIST.800.53.R5-LambdaInsideVPC`. */
  readonly ruleId: string;
  /** Why the finding is right for this resource. Specific to the resource, never generic. */
  readonly reason: string;
  /**
   * Granular finding ids the acknowledgement is limited to (cdk-nag's `appliesTo`), e.g.
   * `Resource::arn:aws:logs:...:*`. Without them the whole rule is acknowledged on the resource.
   */
  readonly findings?: string[];
}

/** The cdk-nag 2 metadata key on CloudFormation resources. */
export const NAG_V2_METADATA_KEY = 'cdk_nag';

function cfnResourceOf(construct: IConstruct): CfnResource {
  if (CfnResource.isCfnResource(construct)) return construct;
  const child = construct.node.defaultChild;
  if (child && CfnResource.isCfnResource(child)) return child;
  throw new Error(`cdk-ocr-constructs: cannot acknowledge cdk-nag findings on '${construct.node.path}': it is not a CloudFormation resource`);
}

/**
 * Acknowledge by-design cdk-nag findings on one resource the library created.
 *
 * Never call this on a resource the user passed in: their compliance decisions are theirs.
 */
export function acknowledgeNagFindings(construct: IConstruct, acknowledgements: NagAcknowledgement[]): void {
  const resource = cfnResourceOf(construct);
  for (const ack of acknowledgements) {
    if (ack.reason.length < 20) {
      throw new Error(`cdk-ocr-constructs: the reason for ${ack.ruleId} on '${resource.node.path}' is too short to be specific`);
    }
    if (/[^\x20-\x7e]/.test(ack.reason)) {
      // cdk-nag 2 base64-encodes non-ASCII reasons; keep them plain so templates stay readable.
      throw new Error(`cdk-ocr-constructs: the reason for ${ack.ruleId} must be plain ASCII`);
    }
  }

  // cdk-nag 2: merge into existing rules_to_suppress (keep what others put there).
  const existing = (resource.getMetadata(NAG_V2_METADATA_KEY) ?? {}) as { rules_to_suppress?: unknown[] };
  const rules = [...(existing.rules_to_suppress ?? [])];
  for (const ack of acknowledgements) {
    rules.push({
      id: ack.ruleId,
      reason: ack.reason,
      ...(ack.findings && ack.findings.length > 0 ? { applies_to: [...ack.findings] } : {}),
    });
  }
  resource.addMetadata(NAG_V2_METADATA_KEY, { ...existing, rules_to_suppress: rules });

  // cdk-nag 3: one acknowledgement per rule id (or per granular finding).
  for (const ack of acknowledgements) {
    const ids = ack.findings && ack.findings.length > 0 ? ack.findings.map((f) => `${ack.ruleId}[${f}]`) : [ack.ruleId];
    for (const id of ids) {
      Validations.of(resource).acknowledge({ id, reason: ack.reason });
    }
  }
}

/**
 * Acknowledge the inline-policy findings (NIST/HIPAA IAMNoInlinePolicy) on the default policy of a role
 * this library created, once that policy exists. Grants add statements to the role's DefaultPolicy
 * lazily (sometimes after the construct's constructor), so this runs as a mutating Aspect, before
 * cdk-nag 2's Aspects (default priority) and cdk-nag 3's validation.
 *
 * Why inline is right here: each policy belongs to exactly one role created for one purpose; an
 * inline policy cannot be attached to anything else and is deleted with its role, which is the
 * one-to-one relationship AWS recommends inline policies for.
 */
export function acknowledgeInlinePolicyOf(role: IConstruct, purpose: string): void {
  Aspects.of(role).add({
    visit(node: IConstruct) {
      if (CfnResource.isCfnResource(node) && node.cfnResourceType === 'AWS::IAM::Policy' && !inlineAcknowledged.has(node)) {
        inlineAcknowledged.add(node);
        const reason = `Inline policy of the ${purpose} role only: it grants exactly what that role needs, cannot be attached elsewhere and is deleted with the role.`;
        acknowledgeNagFindings(node, [
          { ruleId: 'NIST.800.53.R5-IAMNoInlinePolicy', reason },
          { ruleId: 'HIPAA.Security-IAMNoInlinePolicy', reason },
        ]);
      }
    },
  }, { priority: AspectPriority.MUTATING });
}

const inlineAcknowledged = new WeakSet<IConstruct>();
