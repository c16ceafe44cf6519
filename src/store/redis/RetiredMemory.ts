/** A tombstone this store wrote, kept so it can be put back with its retired value. */
export interface RememberedTombstone {
  readonly key: string;
  readonly value: string;
  readonly expiresAtMs: number;
}

/** The last retired value of one slot that this store wrote or read. */
export interface RememberedRetired {
  readonly instanceMember: string;
  readonly field: string;
  /** Encoded snapshot text, exactly as stored. */
  readonly text: string;
  readonly folded: readonly string[];
  readonly tombstones: readonly RememberedTombstone[];
  /** When this value was last known to be in Redis (read back or written). */
  readonly seenAtMs: number;
}

/** Tombstones kept per slot: enough for every worker that dies within a tombstone's lifetime in practice. */
const MAX_TOMBSTONES_PER_SLOT = 256;

/**
 * The newest retired value of every slot this store has written (retire) or
 * read (readAll), so that a Redis that comes back empty gets them back: a
 * retired value is the only copy of a dead worker's counts. One encoded string
 * per slot in scope, so memory is bounded by the number of slots.
 */
export class RetiredMemory {
  private readonly entries = new Map<string, RememberedRetired>();

  /** Remember `text`, now in Redis, as the newest retired value of a slot. */
  remember(instanceMember: string, field: string, text: string, folded: readonly string[], nowMs: number): void {
    const key = entryKey(instanceMember, field);
    const tombstones = this.entries.get(key)?.tombstones ?? [];
    this.entries.set(key, { instanceMember, field, text, folded, tombstones, seenAtMs: nowMs });
  }

  /**
   * Forget slots not seen in Redis since `cutoffMs`: their instance expired
   * (every key of it has a TTL refreshed while any of its workers lives), so
   * putting them back would resurrect an instance that is gone.
   */
  sweep(cutoffMs: number): void {
    for (const [key, entry] of this.entries) if (entry.seenAtMs < cutoffMs) this.entries.delete(key);
  }

  /** Remember a tombstone written together with the slot's retired value. */
  addTombstone(instanceMember: string, field: string, tombstone: RememberedTombstone, nowMs: number): void {
    const key = entryKey(instanceMember, field);
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    const tombstones = [...live(entry.tombstones, nowMs), tombstone].slice(-MAX_TOMBSTONES_PER_SLOT);
    this.entries.set(key, { ...entry, tombstones });
  }

  /** The remembered value of one slot. */
  get(instanceMember: string, field: string): RememberedRetired | undefined {
    return this.entries.get(entryKey(instanceMember, field));
  }

  /** Every remembered slot of one instance, with tombstones that have not expired yet. */
  forInstance(instanceMember: string, nowMs: number): RememberedRetired[] {
    const found: RememberedRetired[] = [];
    for (const entry of this.entries.values()) {
      if (entry.instanceMember === instanceMember) found.push({ ...entry, tombstones: live(entry.tombstones, nowMs) });
    }
    return found;
  }
}

function entryKey(instanceMember: string, field: string): string {
  return `${instanceMember}\u0000${field}`;
}

function live(tombstones: readonly RememberedTombstone[], nowMs: number): RememberedTombstone[] {
  return tombstones.filter((tombstone) => tombstone.expiresAtMs > nowMs);
}
