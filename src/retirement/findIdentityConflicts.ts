import { compareKeys } from '../merge/LabelOrder';
import { processKey } from '../snapshot/Snapshot';
import type { Snapshot, SnapshotIdentity, StoredSnapshot } from '../snapshot/Snapshot';

/**
 * How long an older process must keep writing after a newer one of the same
 * slot started before the two count as a conflict. A cluster replacement never
 * overlaps (the new worker is forked after the old one exited); a graceful
 * handover (PM2 reload: new instance ready, then the old one gets SIGINT and
 * 1.6 s to go) overlaps briefly. Ten seconds clears those and modest clock
 * skew between two hosts, and two real claimants overlap for as long as both
 * run, so they are still found within seconds.
 */
export const IDENTITY_OVERLAP_MS = 10_000;

/** Two live processes writing as the same instance and slot at the same time. */
export interface IdentityConflict {
  /** The process that started first. */
  readonly older: SnapshotIdentity;
  /** The process that started later, while the older one went on writing. */
  readonly newer: SnapshotIdentity;
  /** processKey(older) + ' / ' + processKey(newer): stable, for reporting a pair once. */
  readonly pairKey: string;
}

/**
 * Find processes of one store read that claim the same identity: live
 * snapshots (lease present) of the same service, instance, role and slot from
 * different process lives, where the older one wrote more than `overlapMs`
 * after the newer one started. One process per slot at a time is what the
 * merge assumes; two such writers mean two apps share a `service.instance.id`
 * and their counts would be silently added together. Pure.
 */
export function findIdentityConflicts(stored: readonly StoredSnapshot[], overlapMs: number = IDENTITY_OVERLAP_MS): IdentityConflict[] {
  const bySlot = new Map<string, Snapshot[]>();
  for (const { snapshot, live } of stored) {
    const { role } = snapshot.identity;
    if (!live || role === 'retired') continue;
    const key = slotOf(snapshot.identity);
    const group = bySlot.get(key);
    if (group === undefined) bySlot.set(key, [snapshot]);
    else group.push(snapshot);
  }
  const conflicts: IdentityConflict[] = [];
  for (const group of bySlot.values()) {
    if (group.length < 2) continue;
    // Ties broken by process key: two claimants started in the same millisecond (two apps launched
    // together) must come out in the same order at every read, or one pair is reported twice.
    group.sort((a, b) => a.identity.startTimeMs - b.identity.startTimeMs || compareKeys(processKey(a.identity), processKey(b.identity)));
    for (let i = 0; i < group.length; i++) {
      for (let j = i + 1; j < group.length; j++) {
        const older = group[i] as Snapshot;
        const newer = group[j] as Snapshot;
        if (processKey(older.identity) === processKey(newer.identity)) continue;
        if (older.writtenAtMs - newer.identity.startTimeMs <= overlapMs) continue;
        conflicts.push({
          older: older.identity,
          newer: newer.identity,
          pairKey: `${processKey(older.identity)} / ${processKey(newer.identity)}`,
        });
      }
    }
  }
  return conflicts;
}

function slotOf(identity: SnapshotIdentity): string {
  return `${identity.service}|${identity.instance}|${identity.role}|${identity.slot}`;
}
