/**
 * Hands out stable worker slots: the lowest slot not held by a live worker.
 *
 * Slots become the `worker_id` label, so N workers show N values however often
 * they are replaced, and a replacement continues the counters of the slot it
 * takes over. Pure bookkeeping: the cluster wiring lives in ClusterSupervisor.
 */
export class SlotAllocator {
  private readonly held = new Set<number>();

  /** Take the lowest free slot. */
  acquire(): number {
    let slot = 0;
    while (this.held.has(slot)) slot++;
    this.held.add(slot);
    return slot;
  }

  /** Give a slot back once its worker has exited. Releasing a free slot is a no-op. */
  release(slot: number): void {
    this.held.delete(slot);
  }

  /** Slots currently held, ascending. */
  heldSlots(): number[] {
    return [...this.held].sort((a, b) => a - b);
  }
}
