/**
 * Which document runs in which OCR child. A slot is one bounded child. It holds one document, plus
 * a second one once the first has handed all its pages to the OCR pool ('dispatched'): the workers
 * then go straight on with the next document instead of idling at the boundary. A document that
 * must run alone (`exclusive`: it runs again after sharing a child that died) is never joined.
 */
import type { Child } from './engine-child.ts';

export interface Slot { child: Child | null; docs: number; joinable: boolean; exclusive: boolean }

export class SlotScheduler {
  readonly slots: Slot[];
  /** Documents that joined a child finishing another. */
  joined = 0;
  private readonly waiters: Array<{ exclusive: boolean; resolve: (s: Slot) => void }> = [];

  constructor(concurrency: number) {
    this.slots = Array.from({ length: concurrency }, () => ({ child: null, docs: 0, joinable: false, exclusive: false }));
  }

  /** Waits for a slot: an idle one, or (unless `exclusive`) one whose document has dispatched its pages. */
  acquire(exclusive: boolean): Promise<Slot> {
    return new Promise((resolve) => { this.waiters.push({ exclusive, resolve }); this.pump(); });
  }

  release(slot: Slot): void {
    slot.docs--;
    if (slot.docs === 0) { slot.joinable = false; slot.exclusive = false; }
    this.pump();
  }

  /** The slot's document has dispatched its pages: a waiting document may join its child `c`. */
  dispatched(slot: Slot, c: Child): void {
    if (slot.child === c && !slot.exclusive) { slot.joinable = true; this.pump(); }
  }

  /** Every slot holds a document. */
  allBusy(): boolean {
    return this.slots.every((x) => x.docs > 0);
  }

  /** A slot without a document has a warm child. */
  idleWarm(): boolean {
    return this.slots.some((x) => x.docs === 0 && !!x.child && x.child.isReady && !x.child.exited);
  }

  /** Some slot has a warm child. */
  anyWarm(): boolean {
    return this.slots.some((x) => !!x.child && x.child.isReady && !x.child.exited);
  }

  /** Some slot has a child, warm or starting. */
  anyLive(): boolean {
    return this.slots.some((x) => !!x.child && !x.child.exited);
  }

  private admissible(slot: Slot, exclusive: boolean): boolean {
    if (slot.docs === 0) return true;
    return !exclusive && slot.docs === 1 && slot.joinable && !slot.exclusive && !!slot.child && !slot.child.exited;
  }

  private admit(slot: Slot, exclusive: boolean): Slot {
    if (slot.docs > 0) this.joined++;
    slot.docs++;
    slot.joinable = false;
    slot.exclusive = exclusive;
    return slot;
  }

  /** Hands free (or joinable) slots to waiting documents, in arrival order; idle slots first. */
  private pump(): void {
    for (let i = 0; i < this.waiters.length;) {
      const w = this.waiters[i];
      const slot = this.slots.find((x) => x.docs === 0) ?? this.slots.find((x) => this.admissible(x, w.exclusive));
      if (!slot) { i++; continue; }
      this.waiters.splice(i, 1);
      w.resolve(this.admit(slot, w.exclusive));
    }
  }
}
