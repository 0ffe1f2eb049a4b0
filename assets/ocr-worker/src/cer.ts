/** Character error rate: edit distance / ground-truth length, whitespace runs folded to one space. */
export function normaliseForCer(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

export function levenshtein(a: string, b: string): number {
  const A = Array.from(a), B = Array.from(b);
  if (A.length === 0) return B.length;
  if (B.length === 0) return A.length;
  let prev = new Uint32Array(B.length + 1), cur = new Uint32Array(B.length + 1);
  for (let j = 0; j <= B.length; j++) prev[j] = j;
  for (let i = 1; i <= A.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= B.length; j++) {
      const cost = A[i - 1] === B[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[B.length];
}

export function cer(hypothesis: string, truth: string): number {
  const t = normaliseForCer(truth);
  return levenshtein(normaliseForCer(hypothesis), t) / Math.max(1, Array.from(t).length);
}
