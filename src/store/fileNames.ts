import type { SnapshotIdentity, SnapshotRole } from '../snapshot/Snapshot';

/**
 * File names of the embedded store. Everything this package creates in a
 * store directory starts with `ocx-` and matches {@link OWN_FILE}; nothing else
 * is ever read or deleted, so a shared or misconfigured directory loses no one
 * else's files.
 *
 * - `ocx-<role>-<slot>-<pid>-<startTimeMs>.json`: a process's latest snapshot
 * - `...json.tmp-<pid>-<hex>`: being written (renamed over the snapshot when complete)
 * - `...json.claim-<pid>-<hex>`: a dead process's snapshot taken by a retiring process
 * - `ocx-retired-<slot>-0-0.json.lock` (and `.lock.stale-<hex>`): serialises folds into one slot
 */

/** A snapshot file: role, slot, pid, start time. */
const SNAPSHOT_FILE = /^ocx-(worker|primary|retired)-(-?\d+)-(\d+)-(\d+)\.json$/;
/** A claimed snapshot: the snapshot name plus the claimer's pid. */
const CLAIM_FILE = /^(ocx-(?:worker|primary|retired)--?\d+-\d+-\d+\.json)\.claim-(\d+)-[0-9a-f]+$/;
/** Any file this package may have left behind. */
const OWN_FILE = /^ocx-(?:worker|primary|retired)--?\d+-\d+-\d+\.json(?:\.(?:tmp|claim)-\d+-[0-9a-f]+|\.lock(?:\.stale-[0-9a-f]+)?)?$/;

/** What a snapshot file name says about its writer. */
export interface FileNameIdentity {
  readonly role: SnapshotRole;
  readonly slot: number;
  readonly pid: number;
  readonly startTimeMs: number;
}

/** The snapshot file name of a process. */
export function snapshotFileName(identity: Pick<SnapshotIdentity, 'role' | 'slot' | 'pid' | 'startTimeMs'>): string {
  return `ocx-${identity.role}-${identity.slot}-${identity.pid}-${Math.round(identity.startTimeMs)}.json`;
}

/** The file holding a slot's folded totals. */
export function retiredFileName(slot: number): string {
  return snapshotFileName({ role: 'retired', slot, pid: 0, startTimeMs: 0 });
}

/** Parse a snapshot file name; undefined for anything else. */
export function parseSnapshotFileName(name: string): FileNameIdentity | undefined {
  const match = SNAPSHOT_FILE.exec(name);
  if (match === null) return undefined;
  return {
    role: match[1] as SnapshotRole,
    slot: Number(match[2]),
    pid: Number(match[3]),
    startTimeMs: Number(match[4]),
  };
}

/** Parse a claim file name into the claimed snapshot's name and the claimer's pid. */
export function parseClaimFileName(name: string): { readonly snapshotName: string; readonly claimerPid: number } | undefined {
  const match = CLAIM_FILE.exec(name);
  if (match === null) return undefined;
  return { snapshotName: match[1] as string, claimerPid: Number(match[2]) };
}

/** True for every file name this package creates, and only those. */
export function isOwnFileName(name: string): boolean {
  return OWN_FILE.test(name);
}

/** True when a decoded identity is the one its file name promises (guards against copied or foreign files). */
export function matchesFileName(identity: SnapshotIdentity, fromName: FileNameIdentity): boolean {
  return identity.role === fromName.role
    && identity.slot === fromName.slot
    && identity.pid === fromName.pid
    && Math.round(identity.startTimeMs) === fromName.startTimeMs;
}
