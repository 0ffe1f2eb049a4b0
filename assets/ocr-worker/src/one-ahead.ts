/**
 * Runs `start(0)`, `start(1)`, … one item ahead of the consumer and yields the results in order.
 * With the engine this keeps the next document queued while the current one finishes, so it joins
 * the OCR child as soon as the current one has handed out its last pages (no idle workers at
 * document boundaries), while results are still written or printed in input order. Item i + 1 is
 * started when the consumer asks for item i; a consumer that stops asking starts nothing more.
 * A failure of the item ahead surfaces when that item is yielded, never as an unhandled rejection.
 */
export async function* oneAhead<T>(count: number, start: (index: number) => Promise<T>): AsyncGenerator<T, void, undefined> {
  const queue = (i: number): Promise<T> | null => {
    if (i >= count) return null;
    const p = start(i);
    p.catch(() => undefined);
    return p;
  };
  let ahead = queue(0);
  for (let i = 0; i < count; i++) {
    const current = ahead!;
    ahead = queue(i + 1);
    yield await current;
  }
}
