/**
 * How a job's documents are shared out among the children of a Batch array job: by their bytes,
 * which the submit handler knows from S3 (pages it does not). A Fargate task is billed from the
 * start of its image pull, with a one-minute minimum, so a child that reads many small documents
 * costs far less per document than one child per document; a child that reads too much runs for
 * hours and holds up the job's last results.
 *
 * Pure and dependency-free: the handlers and the cost estimate call the same function.
 */

/** Batch array jobs have 2 to 10,000 children (AWS Batch User Guide, "Array jobs"). */
export const MAX_ARRAY_CHILDREN = 10_000;

/** The construct's defaults of `targetBytesPerChild` (64 MiB) and `maxDocumentsPerChild`. */
export const DEFAULT_TARGET_BYTES_PER_CHILD = 64 * 1024 * 1024;
export const DEFAULT_MAX_DOCUMENTS_PER_CHILD = 1000;

/** One child's share of the manifest: documents `[first, first + count)`, in submit order. */
export interface ChildShare {
  readonly first: number;
  readonly count: number;
}

export interface PackingOptions {
  /** Bytes of input a child takes before the next child starts; a larger document gets a child of its own. */
  readonly targetBytesPerChild: number;
  /** Most documents per child, however small they are. */
  readonly maxDocumentsPerChild: number;
  /** Most children (Batch's array limit, or less). */
  readonly maxChildren: number;
}

/** Greedy contiguous packing: each child takes documents in order while they fit. */
function greedy(sizes: readonly number[], targetBytes: number, maxDocuments: number): ChildShare[] {
  const shares: ChildShare[] = [];
  let first = 0;
  let bytes = 0;
  for (let i = 0; i < sizes.length; i++) {
    const count = i - first;
    if (count > 0 && (count >= maxDocuments || bytes + sizes[i] > targetBytes)) {
      shares.push({ first, count });
      first = i;
      bytes = 0;
    }
    bytes += sizes[i];
  }
  if (sizes.length > first) shares.push({ first, count: sizes.length - first });
  return shares;
}

/**
 * Split documents (their sizes in bytes, in submit order) into contiguous shares, one per array
 * child: a child takes documents until the next would take it past `targetBytesPerChild` or it
 * holds `maxDocumentsPerChild`. A document larger than the target gets a child of its own;
 * documents of zero bytes count towards the document cap only.
 *
 * When that would make more than `maxChildren` children, the limits grow just enough to fit: the
 * document cap to `ceil(n / maxChildren)`, then the byte target to the smallest value (found by
 * bisection; the greedy split is the fewest children for a given target, and never more for a
 * larger one) that fits. Deterministic: the same sizes and options give the same shares.
 */
export function packDocuments(sizes: readonly number[], options: PackingOptions): ChildShare[] {
  const { targetBytesPerChild, maxDocumentsPerChild, maxChildren } = options;
  if (!(Number.isFinite(targetBytesPerChild) && targetBytesPerChild > 0)) throw new Error(`packDocuments: targetBytesPerChild must be a positive number, got ${targetBytesPerChild}`);
  if (!(Number.isInteger(maxDocumentsPerChild) && maxDocumentsPerChild >= 1)) throw new Error(`packDocuments: maxDocumentsPerChild must be an integer >= 1, got ${maxDocumentsPerChild}`);
  if (!(Number.isInteger(maxChildren) && maxChildren >= 1)) throw new Error(`packDocuments: maxChildren must be an integer >= 1, got ${maxChildren}`);
  sizes.forEach((s, i) => {
    if (!(Number.isFinite(s) && s >= 0)) throw new Error(`packDocuments: size ${i} must be a number of bytes >= 0, got ${s}`);
  });
  if (sizes.length === 0) return [];
  const maxDocuments = Math.max(maxDocumentsPerChild, Math.ceil(sizes.length / maxChildren));
  const shares = greedy(sizes, targetBytesPerChild, maxDocuments);
  if (shares.length <= maxChildren) return shares;
  // With the target at the total, only the document cap splits, into ceil(n / cap) <= maxChildren children.
  let low = targetBytesPerChild;
  let high = Math.max(targetBytesPerChild, sizes.reduce((sum, s) => sum + s, 0));
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (greedy(sizes, mid, maxDocuments).length <= maxChildren) high = mid;
    else low = mid;
  }
  return greedy(sizes, high, maxDocuments);
}

/** How a job's documents map onto Batch. */
export interface JobPlan {
  /**
   * 'single': one document, a plain job given its key (no manifest). 'manifest': one child, a plain
   * job over a manifest (Batch array jobs have at least 2 children). 'array': an array job.
   */
  readonly kind: 'single' | 'manifest' | 'array';
  /** Each child's share of the manifest, in array index order (one share for a plain job). */
  readonly shares: ChildShare[];
}

/** The Batch job for documents of these sizes: see `packDocuments`. */
export function planJob(sizes: readonly number[], options: Omit<PackingOptions, 'maxChildren'> & { maxChildren?: number }): JobPlan {
  if (sizes.length === 0) throw new Error('planJob: no documents');
  const shares = packDocuments(sizes, { ...options, maxChildren: options.maxChildren ?? MAX_ARRAY_CHILDREN });
  if (sizes.length === 1) return { kind: 'single', shares };
  return { kind: shares.length === 1 ? 'manifest' : 'array', shares };
}

/** The array index of the child whose share holds document `index`. */
export function childOf(shares: readonly ChildShare[], index: number): number {
  let low = 0;
  let high = shares.length - 1;
  while (low <= high) {
    const mid = Math.floor((low + high) / 2);
    const share = shares[mid];
    if (index < share.first) high = mid - 1;
    else if (index >= share.first + share.count) low = mid + 1;
    else return mid;
  }
  throw new Error(`childOf: document ${index} is in no share`);
}
