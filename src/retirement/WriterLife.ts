import { foldSnapshot } from '../merge/foldSnapshot';
import { rebaseSnapshot } from '../merge/rebaseSnapshot';
import type { Snapshot, SnapshotIdentity } from '../snapshot/Snapshot';
import { sameMetrics } from '../snapshot/sameMetrics';
import { SnapshotEncoder } from '../snapshot/SnapshotCodec';

/**
 * Renewals of an unchanged life per lease period: a life stays live through
 * four lost or late renewals (a flush skipped while the previous write is
 * still in flight, a paused event loop).
 */
export const RENEWALS_PER_LEASE = 5;

/**
 * What one writing process knows about its own life in the store: under
 * which identity it writes, what it wrote last (so an unchanged flush only
 * renews the lease), and, once it was fenced (claimed while presumed dead),
 * the cumulative totals already folded into its slot.
 */
export class WriterLife {
  /** The identity snapshots are stored under: the original, or a new life after a fence. */
  identity: SnapshotIdentity;
  /** A write of this process is on its way; the next one is refused, not queued. */
  inFlight = false;
  /** The original (cumulative) totals already folded into the slot, once fenced (a `retired` snapshot). */
  private baseline: Snapshot | undefined;
  /** The last snapshot the store confirmed, as stored (after rebasing). */
  private lastWritten: Snapshot | undefined;
  /** Encodes what changed since the last flush and reuses the rest of the text. */
  private readonly encoder = new SnapshotEncoder();
  /** The version of the last write handed to the backend. */
  private lastVersion = 0;
  /** When the store last confirmed this life (a write or a renewal), ms since the epoch. */
  private confirmedAtMs = -Infinity;

  constructor(original: SnapshotIdentity) {
    this.identity = original;
  }

  /** What to store for this cumulative snapshot: itself, or the not-yet-folded part under the new life. */
  effective(snapshot: Snapshot): Snapshot {
    if (this.baseline === undefined) {
      return snapshot.identity === this.identity ? snapshot : { ...snapshot, identity: this.identity };
    }
    return rebaseSnapshot(snapshot, this.baseline, this.identity);
  }

  /** Whether `effective` holds exactly what the store already has: then a renewal is enough. */
  unchanged(effective: Snapshot): boolean {
    return this.lastWritten !== undefined && this.lastWritten.identity === this.identity && sameMetrics(this.lastWritten.metrics, effective.metrics);
  }

  /** The text of `effective`, re-encoding only the metrics that changed since the last call. */
  encode(effective: Snapshot): string {
    return this.encoder.encode(effective);
  }

  /**
   * The version to store `effective` under: its time, but strictly above every
   * version this process wrote before. Readers skip entries whose version they
   * hold, so two writes in one millisecond, a clock stepped back, or a backend
   * that restarted empty must never reuse a version with other contents.
   */
  nextVersion(effective: Snapshot): number {
    this.lastVersion = Math.max(effective.writtenAtMs, this.lastVersion + 1);
    return this.lastVersion;
  }

  /**
   * Whether an unchanged flush must renew the lease now: at least
   * {@link RENEWALS_PER_LEASE} times per lease, not at every flush. Each
   * renewal is a backend round trip (a file store's four file-system calls on
   * the thread pool, a Redis EVALSHA), the largest cost left in an idle worker.
   */
  renewalDue(nowMs: number, leaseMs: number): boolean {
    return nowMs - this.confirmedAtMs >= leaseMs / RENEWALS_PER_LEASE;
  }

  /** The store holds `effective` now. */
  written(effective: Snapshot, nowMs: number = Date.now()): void {
    this.lastWritten = effective;
    this.confirmedAtMs = nowMs;
  }

  /**
   * The life was claimed: `claimed` (what the store froze, in this life's
   * terms) is or will be folded into the slot. Start a new life (same slot
   * and pid, a later start time) whose values count from there. Without a
   * readable `claimed` the new life starts from `current`: what was counted
   * in between may be lost, but nothing is ever counted twice.
   */
  fence(claimed: Snapshot | undefined, current: Snapshot, nowMs: number): void {
    // In the original (cumulative) terms: what was folded before plus what this life's claim froze.
    const folded: Snapshot = claimed === undefined ? current : { ...claimed, identity: this.identity };
    this.baseline = foldSnapshot(claimed === undefined ? undefined : this.baseline, folded);
    this.identity = { ...this.identity, startTimeMs: Math.max(nowMs, this.identity.startTimeMs + 1) };
    this.lastWritten = undefined;
    this.confirmedAtMs = -Infinity;
  }
}
