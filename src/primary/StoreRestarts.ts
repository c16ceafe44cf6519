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
 * folded. {@link deriveRestarts} turns them into restarts; each is counted
 * once, by the life that replaced another, with the reason first known (the
 * previous life's exit code or signal, which its exit hook wrote into its last
 * snapshot and its fold keeps in `ends`; `unknown` when it could not write,
 * as after `kill -9`). A replacement that starts while the old life still
 * holds its lease is counted once the old life has ended, so a rolling reload
 * gets the old life's exit as its reason. Counted restarts stay counted: a life that leaves the
 * bounded `ends` list, or a store that lost its data, never lowers a counter.
 */
import { CATALOGUE, LABEL } from '../catalogue/MetricCatalogue';
import type { LifeEnd, Snapshot, SnapshotMetric, StoredSnapshot } from '../snapshot/Snapshot';
import { catalogueMetric } from '../snapshot/catalogueMetric';
import { deriveRestarts, type SlotLife } from './deriveRestarts';
import { workerTableMetrics } from './workerTableMetrics';

/** Restarts remembered as counted (by the life that replaced another); older ones are forgotten first. */
const MAX_COUNTED = 16_384;

interface InstanceLives {
  readonly service: string;
  readonly instance: string;
  watchedByPrimary: boolean;
  readonly slots: Map<number, SlotLife[]>;
}

/** The restart series one reader derives from a store, between scrapes. */
export class StoreRestarts {
  /** Restarts counted, by `service|instance|slot|pid|start` of the life that replaced another. */
  private readonly counted = new Set<string>();
  /** Restarts per `service|instance`, then per `slot|reason`, and since when that series counts. */
  private readonly totals = new Map<string, Map<string, { count: number; startTimeMs: number }>>();

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
    const { events, workers, states } = deriveRestarts(group.slots);
    const instanceKey = `${group.service}|${group.instance}`;
    let totals = this.totals.get(instanceKey);
    if (totals === undefined) {
      totals = new Map();
      this.totals.set(instanceKey, totals);
    }
    for (const { slot, pid, startTimeMs, reason, pending } of events) {
      // The old life still holds its lease (`pm2 reload` starts the replacement first): counted once it has
      // ended, with the exit it wrote (PM2 stops it with SIGINT) or `unknown` when its lease lapses.
      if (pending) continue;
      // Counted once, with the reason first seen: a later read that knows more never moves it to another series.
      const eventKey = `${instanceKey}|${slot}|${pid}|${startTimeMs}`;
      if (this.counted.has(eventKey)) continue;
      if (this.counted.size >= MAX_COUNTED) this.counted.delete(this.counted.values().next().value as string);
      this.counted.add(eventKey);
      const seriesKey = `${slot}|${reason}`;
      const total = totals.get(seriesKey);
      if (total === undefined) totals.set(seriesKey, { count: 1, startTimeMs: nowMs });
      else total.count++;
    }
    const restartPoints = [...totals].map(([key, { count, startTimeMs }]) => {
      const [slot, reason] = key.split('|') as [string, string];
      return { attributes: { [LABEL.workerId]: slot, [LABEL.reason]: reason }, startTimeMs, value: count };
    });
    const metrics: SnapshotMetric[] = workerTableMetrics({ workers, states }, nowMs);
    if (restartPoints.length > 0) metrics.push(catalogueMetric(CATALOGUE.workerRestarts, 'counter', 'int', restartPoints));
    return {
      // Not a stored life: a view-only snapshot, as the snapshot-age gauge is.
      identity: { service: group.service, instance: group.instance, slot: -1, pid: process.pid, startTimeMs: 1, role: 'primary' },
      writtenAtMs: nowMs,
      metrics,
    };
  }
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
    else if (role === 'worker' && slot >= 0) {
      // A snapshot that says how its process exited is from a process that is gone, whatever its lease says.
      const { exit } = snapshot;
      add(group, slot, exit === undefined ? { pid, startTimeMs, ended: live ? 'live' : 'dead' } : { pid, startTimeMs, ended: 'dead', exit });
    } else if (role === 'retired') for (const end of snapshot.ends ?? []) addEnded(group, end, add);
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
  add(group, slot, end.exit === undefined ? { pid, startTimeMs, ended: 'dead' } : { pid, startTimeMs, ended: 'dead', exit: end.exit });
}
