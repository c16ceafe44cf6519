/**
 * Restart analytics for readers no primary watches (`serve` next to PM2, a
 * sidecar): `gunicorn_worker_restart_total`, `gunicorn_workers` and
 * `gunicorn_worker_state`, derived from the lives the store lists.
 *
 * Where a cluster primary runs, it records these series itself, exactly (it
 * sees every exit with its code and signal) and writes them in its own
 * snapshot. An instance whose snapshots include a primary's is therefore never
 * derived: both would count the same restarts.
 *
 * Lives of a slot come from two places: the lives the store lists now (live,
 * dead, claimed) and the `ends` its retired totals record for lives already
 * folded. {@link deriveRestarts} turns them into restarts. The counters served
 * never decrease: each series keeps the highest value this reader has served,
 * so a life that leaves the bounded `ends` list or a store that lost its data
 * never lowers them.
 */
import { CATALOGUE, LABEL } from '../catalogue/MetricCatalogue';
import type { LifeEnd, Snapshot, SnapshotMetric, StoredSnapshot } from '../snapshot/Snapshot';
import { WORKER_STATES } from './ClusterSupervisor';
import { deriveRestarts, type SlotLife } from './deriveRestarts';

/** Distinct restart series remembered (slot × reason); beyond this nothing new is added. */
const MAX_SERIES = 4_096;

interface InstanceLives {
  readonly service: string;
  readonly instance: string;
  watchedByPrimary: boolean;
  readonly slots: Map<number, SlotLife[]>;
}

/** The restart series one reader derives from a store, between scrapes. */
export class StoreRestarts {
  /** Highest count served per instance, slot and reason; and since when it counts. */
  private readonly served = new Map<string, { count: number; startTimeMs: number }>();

  /**
   * Snapshots holding the derived series, one per instance that no primary
   * watches and that has worker lives; nothing for other instances.
   */
  derive(stored: readonly StoredSnapshot[], nowMs: number): StoredSnapshot[] {
    const derived: StoredSnapshot[] = [];
    for (const group of groupLives(stored).values()) {
      if (group.watchedByPrimary || group.slots.size === 0) continue;
      derived.push({ snapshot: this.snapshotOf(group, nowMs), live: true });
    }
    return derived;
  }

  private snapshotOf(group: InstanceLives, nowMs: number): Snapshot {
    const { restarts, workers, states } = deriveRestarts(group.slots);
    const bySlotReason = new Map<string, { slot: number; reason: string; count: number }>();
    for (const { slot, reason, count } of restarts) {
      const key = `${slot}|${reason}`;
      const entry = bySlotReason.get(key);
      if (entry === undefined) bySlotReason.set(key, { slot, reason, count });
      else entry.count += count;
    }
    const prefix = `${group.service}|${group.instance}|`;
    for (const { slot, reason, count } of bySlotReason.values()) {
      const key = `${prefix}${slot}|${reason}`;
      const before = this.served.get(key);
      if (before === undefined) {
        if (this.served.size < MAX_SERIES) this.served.set(key, { count, startTimeMs: nowMs });
      } else if (count > before.count) {
        this.served.set(key, { count, startTimeMs: before.startTimeMs });
      }
    }
    const restartPoints = [...this.served]
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, { count, startTimeMs }]) => {
        const [slot, reason] = key.slice(prefix.length).split('|') as [string, string];
        return { attributes: { [LABEL.workerId]: slot, [LABEL.reason]: reason }, startTimeMs, value: count };
      });
    const statePoints = [...states].flatMap(([slot, current]) =>
      WORKER_STATES.map((state) => ({ attributes: { [LABEL.workerId]: String(slot), [LABEL.state]: state }, startTimeMs: nowMs, value: state === current ? 1 : 0 })),
    );
    const metrics: SnapshotMetric[] = [
      metric(CATALOGUE.workers, 'gauge', [{ attributes: {}, startTimeMs: nowMs, value: workers }]),
      metric(CATALOGUE.state, 'gauge', statePoints),
    ];
    if (restartPoints.length > 0) metrics.push(metric(CATALOGUE.workerRestarts, 'counter', restartPoints));
    return {
      // Not a stored life: a view-only snapshot, as the snapshot-age gauge is.
      identity: { service: group.service, instance: group.instance, slot: -1, pid: process.pid, startTimeMs: 1, role: 'primary' },
      writtenAtMs: nowMs,
      metrics,
    };
  }
}

function metric(definition: { name: string; help: string; unit: string }, kind: 'gauge' | 'counter', points: SnapshotMetric['points']): SnapshotMetric {
  return { name: definition.name, description: definition.help, unit: definition.unit, kind, valueType: 'int', points };
}

/** Worker lives per instance and slot: listed lives and the folded lives their slot's retired totals record. */
function groupLives(stored: readonly StoredSnapshot[]): Map<string, InstanceLives> {
  const groups = new Map<string, InstanceLives>();
  const groupOf = (service: string, instance: string): InstanceLives => {
    const key = `${service}|${instance}`;
    let group = groups.get(key);
    if (group === undefined) {
      group = { service, instance, watchedByPrimary: false, slots: new Map() };
      groups.set(key, group);
    }
    return group;
  };
  const add = (group: InstanceLives, slot: number, life: SlotLife): void => {
    const lives = group.slots.get(slot);
    if (lives === undefined) group.slots.set(slot, [life]);
    else lives.push(life);
  };
  for (const { snapshot, live } of stored) {
    const { service, instance, slot, pid, startTimeMs, role } = snapshot.identity;
    const group = groupOf(service, instance);
    if (role === 'primary') group.watchedByPrimary = true;
    else if (role === 'worker' && slot >= 0) add(group, slot, { pid, startTimeMs, ended: live ? 'live' : 'dead' });
    else if (role === 'retired') for (const end of snapshot.ends ?? []) addEnded(group, end, add);
  }
  return groups;
}

/** A folded life from its `ends` record; a life dropped without counting (`removed`) was no worker life. */
function addEnded(group: InstanceLives, end: LifeEnd, add: (group: InstanceLives, slot: number, life: SlotLife) => void): void {
  if (end.how === 'removed') return;
  // processKey: service|instance|slot|pid|startTimeMs (the service and instance may hold '|').
  const parts = end.key.split('|');
  const [slot, pid, startTimeMs] = parts.slice(-3).map(Number) as [number, number, number];
  if (!Number.isInteger(slot) || slot < 0 || !Number.isFinite(pid) || !Number.isFinite(startTimeMs)) return;
  add(group, slot, { pid, startTimeMs, ended: 'dead' });
}
