/**
 * Hands out stable worker slots: the lowest slot not held by a live worker.
 *
 * Slots become the `worker_id` label, so N workers show N values however often
 * they are replaced, and a replacement continues the counters of the slot it
 * takes over. A slot may be held twice for a moment: during a graceful
 * handover (`otel-cluster-exporter run`) the new worker takes the slot while
 * the old one finishes its requests, so each holder is counted and the slot is
 * free again only when the last one lets go. Pure bookkeeping: the cluster
 * wiring lives in ClusterSupervisor.
 */
export class SlotAllocator {
  /** Holders per held slot (1, or 2 during a handover). */
  private readonly held = new Map<number, number>();

  /** Take the lowest free slot. */
  acquire(): number {
    let slot = 0;
    while (this.held.has(slot)) slot++;
    this.held.set(slot, 1);
    return slot;
  }

  /** Take `slot` whether or not it is held already (a handover to a new worker). */
  hold(slot: number): void {
    this.held.set(slot, (this.held.get(slot) ?? 0) + 1);
  }

  /** Give a slot back once its worker has exited. Releasing a free slot is a no-op. */
  release(slot: number): void {
    const holders = this.held.get(slot);
    if (holders === undefined) return;
    if (holders <= 1) this.held.delete(slot);
    else this.held.set(slot, holders - 1);
  }

  /** Slots currently held, ascending. */
  heldSlots(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b);
  }
}
