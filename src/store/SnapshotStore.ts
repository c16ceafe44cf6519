import type { Snapshot, SnapshotIdentity, StoredSnapshot } from '../snapshot/Snapshot';

/**
 * Where workers persist snapshots and where exporters read them back.
 *
 * Implementations: {@link ./FileStore} (embedded default, one host) and
 * {@link ./RedisStore} (many hosts). Every method may reject; callers in an
 * application process catch, count the failure and carry on.
 */
export interface SnapshotStore {
  /** A short name for self-metrics and logs (`file`, `redis`). */
  readonly kind: string;

  /** Replace the stored snapshot of the writing process with this one. */
  write(snapshot: Snapshot): Promise<void>;

  /**
   * Best-effort synchronous write for a process that is about to die
   * (uncaught exception). Stores that cannot write synchronously omit it.
   */
  writeSync?(snapshot: Snapshot): void;

  /** Every snapshot under this store's scope: live, dead and retired. */
  readAll(): Promise<StoredSnapshot[]>;

  /**
   * Fold the last snapshot of a process that is gone into its slot's retired
   * totals and drop it, exactly once even if called again or concurrently.
   */
  retire(identity: SnapshotIdentity): Promise<void>;

  /** Drop the snapshot of a process (a clean shutdown that is not to be folded). */
  remove(identity: SnapshotIdentity): Promise<void>;

  /** Release timers and connections. Does not delete data. */
  close(): Promise<void>;
}
