import type { SnapshotRole } from '../snapshot/Snapshot';

/**
 * The primitives a store backend offers the retirement protocol
 * (retirement/Retirement.ts). A backend knows nothing about folding: it
 * stores one encoded snapshot per process life, a lease per life, a claim that
 * freezes a life, and per slot a retired record changed only by
 * compare-and-set. Every rule about when a life ends and how it is counted
 * lives in the protocol, so both backends keep the same ones.
 *
 * Implementations: store/file/FileBackend.ts (one directory, one host) and
 * store/redis/RedisBackend.ts (many hosts). The contract suite
 * (test/store/contract.test.ts) runs the same cases against both.
 */
export interface LifeBackend {
  /** A short name for self-metrics and logs (`file`, `redis`). */
  readonly kind: string;
  /** How long a life stays live after its last write or renewal, ms. */
  readonly leaseMs: number;
  /**
   * After how long without any write or renewal the backend lets an instance's
   * data expire on its own (Redis TTL), ms; 0 when it never does. Readers do
   * not put back what expired that way.
   */
  readonly expiresAfterMs: number;

  /** The scope a process of this service instance writes under. */
  scopeOf(owner: { readonly service: string; readonly instance: string }): string;

  /**
   * Replace a life's snapshot and renew its lease, atomically, unless the life
   * was claimed: then nothing is written and the claimed text is returned.
   */
  write(life: LifeRef, text: string, version: number): Promise<WriteReply>;

  /** {@link write} for a process about to exit; backends that cannot block omit it. */
  writeSync?(life: LifeRef, text: string, version: number): WriteReply;

  /**
   * Renew a life's lease without writing data (its snapshot did not change).
   * `missing` when the backend no longer has the life's snapshot (emptied):
   * the caller writes it whole instead.
   */
  renew(life: LifeRef): Promise<WriteReply | 'missing'>;

  /**
   * One consistent read of everything in scope. Texts are returned only for
   * lives and retired records whose version `known` does not already hold, so
   * an unchanged snapshot is neither transferred nor decoded again.
   */
  read(known: (key: string, version: string) => boolean): Promise<ScopeRead[]>;

  /**
   * Freeze a life: from now on writes to it are refused. With `expiredOnly`
   * a life whose lease is still valid is left alone (`live`). Claiming a life
   * already claimed returns the same frozen text; `gone` when nothing of the life exists.
   */
  claim(life: LifeRef, expiredOnly: boolean): Promise<{ readonly text: string } | 'live' | 'gone'>;

  /**
   * Put back a life the backend lost (emptied) as claimed, with the text a
   * reader last saw, unless any record of the life exists. True when written.
   */
  restoreClaim(life: LifeRef, text: string, version: number): Promise<boolean>;

  /**
   * Drop a claimed life after its fold is recorded in the retired totals.
   * `keepTombstone`: its writer may still run (it was only presumed dead), so
   * keep the frozen text for fencing, out of the listing, for a bounded time.
   */
  release(life: LifeRef, keepTombstone: boolean): Promise<void>;

  /**
   * Write a slot's retired record if it still has the version `expected`
   * (undefined: absent). Returns the new version, or undefined when someone
   * changed it meanwhile.
   */
  compareAndSetRetired(scope: string, slot: number, expected: string | undefined, text: string): Promise<string | undefined>;

  /** Release timers and connections. Does not delete data. */
  close(): Promise<void>;
}

/** One process life as a backend addresses it. */
export interface LifeRef {
  /** The backend's scope: one service instance (Redis) or the directory (file). */
  readonly scope: string;
  readonly role: SnapshotRole;
  readonly slot: number;
  readonly pid: number;
  readonly startTimeMs: number;
}

/** What a write or a renewal found. */
export type WriteReply = 'written' | { readonly fenced: string };

/** How a listed life stands. */
export type LifeState =
  /** Its lease is valid. */
  | 'live'
  /** Its lease ran out: its writer stopped (died, or is paused). */
  | 'expired'
  /** Frozen by a retirer; its fold may not be recorded yet. */
  | 'claimed';

/** One life of a {@link ScopeRead}. */
export interface ListedLife extends LifeRef {
  /** Unique within the backend; stable for the life. */
  readonly key: string;
  /** Changes whenever the stored text changes. */
  readonly version: string;
  readonly state: LifeState;
  /** When the lease was last renewed (write or renewal), ms since the epoch; undefined if unknown. */
  readonly renewedAtMs: number | undefined;
  /** The encoded snapshot; undefined when `known` said this version is held already, or it vanished. */
  readonly text: string | undefined;
}

/** One slot's retired record of a {@link ScopeRead}. */
export interface RetiredRecord {
  readonly slot: number;
  /** Pass back to {@link LifeBackend.compareAndSetRetired}. */
  readonly version: string;
  /** Undefined when `known` said this version is held already. */
  readonly text: string | undefined;
}

/** Everything of one scope, read consistently. */
export interface ScopeRead {
  readonly scope: string;
  /** The service and instance the scope stands for, when the backend's layout names them. */
  readonly owner: { readonly service: string; readonly instance: string } | undefined;
  readonly lives: readonly ListedLife[];
  readonly retired: readonly RetiredRecord[];
}

/** The key {@link LifeBackend.read} passes to `known` for a slot's retired record. */
export function retiredKey(scope: string, slot: number): string {
  return `${scope}\u0000retired\u0000${slot}`;
}
