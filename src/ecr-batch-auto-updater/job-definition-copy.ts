/**
 * The exact copy of a Batch job definition revision, with only its image changed.
 *
 * `DescribeJobDefinitions` returns `JobDefinition` objects that cannot be sent back to
 * `RegisterJobDefinition` as they are: some fields are output-only (ARN, revision, status,
 * orchestration type), Batch does not carry tags over, and tag keys starting with `aws:` are reserved.
 * `FIELD_HANDLING` classifies every field of the SDK's `JobDefinition` type. It is typed over
 * `keyof Required<JobDefinition>`, so when a new SDK release adds a field, this file stops compiling
 * until someone decides how the new field is copied.
 */
import type { JobDefinition, RegisterJobDefinitionCommandInput } from '@aws-sdk/client-batch';

/**
 * - `copy`: sent back unchanged (deep-copied).
 * - `copy-with-images`: sent back with every image of this repository replaced.
 * - `tags`: carried over without `aws:` keys, plus the updater's own tags.
 * - `output-only`: set by Batch, not accepted by RegisterJobDefinition.
 */
export type FieldHandling = 'copy' | 'copy-with-images' | 'tags' | 'output-only';

export const FIELD_HANDLING = {
  jobDefinitionName: 'copy',
  jobDefinitionArn: 'output-only',
  revision: 'output-only',
  status: 'output-only',
  type: 'copy',
  schedulingPriority: 'copy',
  parameters: 'copy',
  retryStrategy: 'copy',
  containerProperties: 'copy-with-images',
  timeout: 'copy',
  nodeProperties: 'copy-with-images',
  tags: 'tags',
  propagateTags: 'copy',
  platformCapabilities: 'copy',
  ecsProperties: 'copy-with-images',
  eksProperties: 'copy-with-images',
  // Derived by Batch from which of container/ECS/EKS properties is set.
  containerOrchestrationType: 'output-only',
  consumableResourceProperties: 'copy',
} as const satisfies { readonly [K in keyof Required<JobDefinition>]: FieldHandling };

type Classification = typeof FIELD_HANDLING;
/** The fields that are sent to RegisterJobDefinition. */
type SentField = { [K in keyof Classification]: Classification[K] extends 'output-only' ? never : K }[keyof Classification];

// Compile-time checks, both directions:
// every field we send must exist in the register request...
type AssertSentFieldsAreAccepted = SentField extends keyof RegisterJobDefinitionCommandInput ? true : never;
// ...and every field of the register request must come from the describe output (a request-only
// field added by a new SDK would otherwise be silently left at its default).
type AssertRequestFieldsAreCovered = Exclude<keyof RegisterJobDefinitionCommandInput, SentField> extends never ? true : never;
export const COPY_IS_EXHAUSTIVE: [AssertSentFieldsAreAccepted, AssertRequestFieldsAreCovered] = [true, true];

/** Tags the updater writes on every revision it registers. */
export const DIGEST_TAG = 'cdk-ocr:image-digest';
export const UPDATED_AT_TAG = 'cdk-ocr:updated-at';
export const UPDATED_FROM_TAG = 'cdk-ocr:updated-from-revision';

/** The repository part of an image reference: `repo-uri:tag` and `repo-uri@sha256:...` → `repo-uri`. */
export function repositoryOf(image: string): string {
  const at = image.indexOf('@');
  if (at >= 0) return image.slice(0, at);
  const lastSlash = image.lastIndexOf('/');
  const colon = image.indexOf(':', lastSlash + 1);
  return colon >= 0 ? image.slice(0, colon) : image;
}

/** Something with an `image` field somewhere in a job definition. */
interface ImageHolder { image?: string }

/**
 * Every container of a job definition that has an image: single-container (`containerProperties`),
 * ECS (`ecsProperties.taskProperties[].containers[]`), EKS (`eksProperties.podProperties.containers[]`
 * and `initContainers[]`), and the same three inside each node range of a multi-node definition.
 */
export function imageHolders(def: Pick<JobDefinition, 'containerProperties' | 'ecsProperties' | 'eksProperties' | 'nodeProperties'>): ImageHolder[] {
  const holders: ImageHolder[] = [];
  const fromProps = (p: Pick<JobDefinition, 'ecsProperties' | 'eksProperties'> & { container?: ImageHolder; containerProperties?: ImageHolder }) => {
    if (p.containerProperties) holders.push(p.containerProperties);
    if (p.container) holders.push(p.container);
    for (const task of p.ecsProperties?.taskProperties ?? []) holders.push(...(task.containers ?? []));
    const pod = p.eksProperties?.podProperties;
    holders.push(...(pod?.containers ?? []), ...(pod?.initContainers ?? []));
  };
  fromProps(def);
  for (const range of def.nodeProperties?.nodeRangeProperties ?? []) fromProps(range);
  return holders;
}

/** The images of `def` that come from `repositoryUri` (tag or digest references). */
export function imagesFromRepository(def: JobDefinition, repositoryUri: string): string[] {
  return imageHolders(def).map((h) => h.image).filter((i): i is string => !!i && repositoryOf(i) === repositoryUri);
}

export interface CopyOptions {
  /** Images whose repository is this URI are replaced. */
  readonly repositoryUri: string;
  /** The replacement: `repositoryUri@sha256:...`. */
  readonly newImage: string;
  /** The digest, written as a tag. */
  readonly digest: string;
  /** The update time, written as a tag (ISO 8601). */
  readonly now: Date;
}

/**
 * The RegisterJobDefinition input that re-registers `def` with every image of the repository
 * replaced by `newImage`, everything else equal.
 */
export function copyWithNewImage(def: JobDefinition, options: CopyOptions): RegisterJobDefinitionCommandInput {
  const input: Record<string, unknown> = {};
  for (const [field, handling] of Object.entries(FIELD_HANDLING) as [keyof JobDefinition, FieldHandling][]) {
    const value = def[field];
    if (value === undefined) continue;
    switch (handling) {
      case 'output-only':
        break;
      case 'copy':
        input[field] = structuredClone(value);
        break;
      case 'copy-with-images': {
        const copy = structuredClone(value) as JobDefinition[typeof field];
        for (const holder of imageHolders({ [field]: copy })) {
          if (holder.image && repositoryOf(holder.image) === options.repositoryUri) holder.image = options.newImage;
        }
        input[field] = copy;
        break;
      }
      case 'tags':
        break; // below, so that the updater's tags are written even when the old revision had none
    }
  }
  const tags: Record<string, string> = {};
  for (const [key, value] of Object.entries(def.tags ?? {})) {
    if (!key.toLowerCase().startsWith('aws:')) tags[key] = value;
  }
  tags[DIGEST_TAG] = options.digest;
  tags[UPDATED_AT_TAG] = options.now.toISOString();
  if (def.revision !== undefined) tags[UPDATED_FROM_TAG] = String(def.revision);
  input.tags = tags;
  return input as unknown as RegisterJobDefinitionCommandInput;
}
