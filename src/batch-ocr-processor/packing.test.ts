import { childOf, ChildShare, MAX_ARRAY_CHILDREN, packDocuments, planJob } from './packing';

const MiB = 1024 * 1024;
const options = { targetBytesPerChild: 64 * MiB, maxDocumentsPerChild: 1000, maxChildren: MAX_ARRAY_CHILDREN };

/** The shares cover every document once, in order, with no gap. */
function expectContiguous(shares: ChildShare[], n: number): void {
  let next = 0;
  for (const share of shares) {
    expect(share.first).toBe(next);
    expect(share.count).toBeGreaterThanOrEqual(1);
    next += share.count;
  }
  expect(next).toBe(n);
}

function bytesOf(sizes: number[], share: ChildShare): number {
  return sizes.slice(share.first, share.first + share.count).reduce((a, b) => a + b, 0);
}

describe('packDocuments', () => {
  test('small documents share a child up to the byte target', () => {
    // 10 MiB each: six fit in 64 MiB, the seventh starts the next child
    const sizes = Array.from({ length: 20 }, () => 10 * MiB);
    const shares = packDocuments(sizes, options);
    expect(shares).toEqual([{ first: 0, count: 6 }, { first: 6, count: 6 }, { first: 12, count: 6 }, { first: 18, count: 2 }]);
    for (const share of shares) expect(bytesOf(sizes, share)).toBeLessThanOrEqual(64 * MiB);
  });

  test('a document larger than the target gets a child of its own', () => {
    const sizes = [MiB, MiB, 100 * MiB, MiB, MiB];
    expect(packDocuments(sizes, options)).toEqual([{ first: 0, count: 2 }, { first: 2, count: 1 }, { first: 3, count: 2 }]);
  });

  test('the document cap splits many tiny documents', () => {
    const sizes = Array.from({ length: 2500 }, () => 1000);
    expect(packDocuments(sizes, options)).toEqual([{ first: 0, count: 1000 }, { first: 1000, count: 1000 }, { first: 2000, count: 500 }]);
  });

  test('zero-byte documents count towards the document cap only', () => {
    const sizes = Array.from({ length: 5 }, () => 0);
    const shares = packDocuments(sizes, { ...options, maxDocumentsPerChild: 2 });
    expect(shares).toEqual([{ first: 0, count: 2 }, { first: 2, count: 2 }, { first: 4, count: 1 }]);
    expect(packDocuments(sizes, options)).toEqual([{ first: 0, count: 5 }]);
  });

  test('no documents, no children', () => {
    expect(packDocuments([], options)).toEqual([]);
  });

  test('more children than allowed: the byte target grows until they fit', () => {
    // 30,000 documents of 100 MiB each would be 30,000 children
    const sizes = Array.from({ length: 30_000 }, (_, i) => (100 + (i % 7)) * MiB);
    const shares = packDocuments(sizes, options);
    expect(shares.length).toBeLessThanOrEqual(MAX_ARRAY_CHILDREN);
    expect(shares.length).toBeGreaterThan(MAX_ARRAY_CHILDREN / 2); // grown just enough, not to one child
    expectContiguous(shares, sizes.length);
  });

  test('more documents than children times the cap: the cap grows', () => {
    const sizes = Array.from({ length: 25_000 }, () => 10);
    const shares = packDocuments(sizes, { ...options, maxDocumentsPerChild: 1, maxChildren: 10_000 });
    expect(shares.length).toBeLessThanOrEqual(10_000);
    expect(Math.max(...shares.map((s) => s.count))).toBe(3);
    expectContiguous(shares, sizes.length);
  });

  test('a small child limit', () => {
    const sizes = [5, 5, 5, 5, 5, 5];
    const shares = packDocuments(sizes, { targetBytesPerChild: 5, maxDocumentsPerChild: 10, maxChildren: 2 });
    expect(shares).toEqual([{ first: 0, count: 3 }, { first: 3, count: 3 }]);
  });

  test('deterministic', () => {
    const sizes = Array.from({ length: 5000 }, (_, i) => ((i * 7919) % 5003) * 1000);
    expect(packDocuments(sizes, options)).toEqual(packDocuments([...sizes], { ...options }));
    expectContiguous(packDocuments(sizes, options), sizes.length);
  });

  test('bad input fails', () => {
    expect(() => packDocuments([1, -1], options)).toThrow(/size 1 must be a number of bytes >= 0/);
    expect(() => packDocuments([NaN], options)).toThrow(/size 0/);
    expect(() => packDocuments([1], { ...options, targetBytesPerChild: 0 })).toThrow(/targetBytesPerChild/);
    expect(() => packDocuments([1], { ...options, maxDocumentsPerChild: 0 })).toThrow(/maxDocumentsPerChild/);
    expect(() => packDocuments([1], { ...options, maxChildren: 0 })).toThrow(/maxChildren/);
  });
});

describe('planJob', () => {
  test('one document: a plain job given its key', () => {
    expect(planJob([MiB], options)).toEqual({ kind: 'single', shares: [{ first: 0, count: 1 }] });
  });

  test('documents that fit one child: a plain job over a manifest, not an array of one', () => {
    expect(planJob([MiB, MiB, MiB], options)).toEqual({ kind: 'manifest', shares: [{ first: 0, count: 3 }] });
  });

  test('two children or more: an array job', () => {
    const plan = planJob([60 * MiB, 60 * MiB], options);
    expect(plan.kind).toBe('array');
    expect(plan.shares).toHaveLength(2);
  });

  test('no documents fails', () => {
    expect(() => planJob([], options)).toThrow(/no documents/);
  });
});

describe('childOf', () => {
  test('finds the share that holds a document', () => {
    const shares = [{ first: 0, count: 2 }, { first: 2, count: 1 }, { first: 3, count: 5 }];
    expect([0, 1, 2, 3, 7].map((i) => childOf(shares, i))).toEqual([0, 0, 1, 2, 2]);
    expect(() => childOf(shares, 8)).toThrow(/document 8 is in no share/);
  });
});
