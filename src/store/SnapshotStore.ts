import type { Snapshot, SnapshotIdentity, StoredSnapshot } from '../snapshot/Snapshot';

/**
 * Where workers persist snapshots and where exporters read them back.
 *
 * The one implementation is the retirement protocol
 * (retirement/Retirement.ts) over a backend's primitives (store/LifeBackend.ts:
 * the embedded file store or Redis). Every method may reject; callers in an
 * application process catch, count the failure and carry on.
 */
export interface SnapshotStore {
  /** A short name for self-metrics and logs (`file`, `redis`). */
  readonly kind: string;

  /** Replace the stored snapshot of the writing process with this one (or only renew its lease if nothing changed). */
  write(snapshot: Snapshot): Promise<void>;

  /**
   * Best-effort synchronous write for a process that is about to die
   * (uncaught exception). Stores that cannot write synchronously omit it.
   */
  readonly writeSync?: ((snapshot: Snapshot) => void) | undefined;

  /** Every snapshot under this store's scope: live, dead and retired. */
  readAll(): Promise<StoredSnapshot[]>;

  /**
   * Fold the last snapshot of a process life that is gone into its slot's
   * retired totals, exactly once even if called again or concurrently.
   */
  retire(identity: SnapshotIdentity): Promise<void>;

  /** The cluster saw worker `pid` of `slot` exit: fold its lives now. Resolves to how many were folded. */
  retireProcess(slot: number, pid: number): Promise<number>;

  /** Fold every worker life whose lease ran out (writers no primary watches) and finish interrupted folds. */
  reap(): Promise<void>;

  /** Drop a life without counting it (a process that became the primary). */
  remove(identity: SnapshotIdentity): Promise<void>;

  /** Release timers and connections. Does not delete data. */
  close(): Promise<void>;
}
