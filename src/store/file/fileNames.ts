import type { SnapshotRole } from '../../snapshot/Snapshot';
import type { LifeRef } from '../LifeBackend';

/**
 * File names of the embedded store. Everything this package creates in a
 * store directory starts with `ocx-` and matches {@link OWN_FILE}; nothing else
 * is ever read or deleted, so a shared or misconfigured directory loses no one
 * else's files.
 *
 * - `ocx-<role>-<slot>-<pid>-<startTimeMs>.json`: a life's latest snapshot
 * - `… .json.lease`: its lease, renewed (mtime) by a flush that had nothing new to write
 * - `… .json.claim`: the life frozen by a retirer (a hard link of its last snapshot)
 * - `… .json.tomb`: a folded life whose writer may still run (kept for fencing)
 * - `ocx-retired-<slot>-0-0.json`: a slot's retired totals (`.lock`, `.lock.stale-<hex>`: its lock)
 * - `… .tmp-<pid>-<hex>`: being written (renamed into place when complete)
 */

/** A life's snapshot file: role, slot, pid, start time. */
const LIFE_FILE = /^ocx-(worker|primary)-(-?\d+)-(\d+)-(\d+)\.json$/;
/** A life's side file. */
const SIDE_FILE = /^(ocx-(?:worker|primary)--?\d+-\d+-\d+\.json)\.(lease|claim|tomb)$/;
/** A slot's retired totals. */
const RETIRED_FILE = /^ocx-retired-(-?\d+)-0-0\.json$/;
/** Any file this package may have left behind. */
const OWN_FILE = /^ocx-(?:worker|primary|retired)--?\d+-\d+-\d+\.json(?:\.(?:lease|claim|tomb)|\.lock(?:\.stale-[0-9a-f]+)?)?(?:\.tmp-\d+-[0-9a-f]+)?$/;

/** What a life's file name says about its writer. */
export interface FileNameIdentity {
  readonly role: Exclude<SnapshotRole, 'retired'>;
  readonly slot: number;
  readonly pid: number;
  readonly startTimeMs: number;
}

/** The snapshot file name of a life. */
export function lifeFileName(life: Pick<LifeRef, 'role' | 'slot' | 'pid' | 'startTimeMs'>): string {
  return `ocx-${life.role}-${life.slot}-${life.pid}-${Math.round(life.startTimeMs)}.json`;
}

/** The file holding a slot's folded totals. */
export function retiredFileName(slot: number): string {
  return `ocx-retired-${slot}-0-0.json`;
}

/** Parse a life's snapshot file name; undefined for anything else. */
export function parseLifeFileName(name: string): FileNameIdentity | undefined {
  const match = LIFE_FILE.exec(name);
  if (match === null) return undefined;
  return { role: match[1] as FileNameIdentity['role'], slot: Number(match[2]), pid: Number(match[3]), startTimeMs: Number(match[4]) };
}

/** Parse a side file name into its life's file name and what it is. */
export function parseSideFileName(name: string): { readonly life: string; readonly side: 'lease' | 'claim' | 'tomb' } | undefined {
  const match = SIDE_FILE.exec(name);
  return match === null ? undefined : { life: match[1] as string, side: match[2] as 'lease' | 'claim' | 'tomb' };
}

/** The slot of a retired file name; undefined for anything else. */
export function parseRetiredFileName(name: string): number | undefined {
  const match = RETIRED_FILE.exec(name);
  return match === null ? undefined : Number(match[1]);
}

/** True for every file name this package creates, and only those. */
export function isOwnFileName(name: string): boolean {
  return OWN_FILE.test(name);
}
