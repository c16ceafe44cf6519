import type { Snapshot, SnapshotIdentity } from '../../snapshot/Snapshot';
import { rebaseSnapshot } from './rebaseSnapshot';

/** How many writes whose outcome is unknown (timed out in flight) are remembered. */
const MAX_DOUBTFUL = 4;

/**
 * What one writing process knows about its own life in Redis: under which
 * identity it writes, which of its snapshots may be the one stored there, and,
 * once it was fenced (folded while presumed dead), the snapshot that was folded.
 *
 * A process is the only writer of its snapshot key, so the snapshot a retire
 * folded is one this process wrote: the last confirmed write or one whose reply
 * was lost. The tombstone names it by `writtenAtMs`.
 */
export class WriterLife {
  /** The identity snapshots are stored under: the original, or a new life after a fence. */
  identity: SnapshotIdentity;
  /** A write of this process is on its way; the next one is refused, not queued. */
  inFlight = false;
  /** The original (cumulative) snapshot already folded into the slot, if fenced. */
  private baseline: Snapshot | undefined;
  private confirmed: Snapshot | undefined;
  private doubtful: Snapshot[] = [];

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

  /** The write of `snapshot` is known to be stored. */
  confirm(snapshot: Snapshot): void {
    this.confirmed = snapshot;
    this.doubtful = [];
  }

  /** The write of `snapshot` failed in a way that may or may not have reached Redis. */
  doubt(snapshot: Snapshot): void {
    this.doubtful.push(snapshot);
    if (this.doubtful.length > MAX_DOUBTFUL) this.doubtful.shift();
  }

  /**
   * The process was folded while presumed dead: the snapshot written at
   * `foldedWrittenAtMs` is in the slot's retired totals. Start a new life whose
   * values count from there. Returns false when that snapshot is unknown (it
   * cannot be, short of a bug); the new life then starts from `current`, which
   * may lose what was counted in between but never counts anything twice.
   */
  fence(foldedWrittenAtMs: number, current: Snapshot, nowMs: number): boolean {
    const candidates = [...this.doubtful, this.confirmed];
    const folded = candidates.find((candidate) => candidate !== undefined && candidate.writtenAtMs === foldedWrittenAtMs);
    this.baseline = folded ?? current;
    this.identity = { ...this.identity, startTimeMs: Math.max(nowMs, this.identity.startTimeMs + 1) };
    this.confirmed = undefined;
    this.doubtful = [];
    return folded !== undefined;
  }
}
