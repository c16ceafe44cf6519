import { CATALOGUE, LABEL } from '../catalogue/MetricCatalogue';
import type { SnapshotMetric, SnapshotPoint } from '../snapshot/Snapshot';
import { catalogueMetric } from '../snapshot/catalogueMetric';
import { WORKER_STATES } from './ClusterSupervisor';
import type { WorkerState } from './ClusterSupervisor';

/** What {@link workerTableMetrics} reports. */
export interface WorkerTableReading {
  /** How many workers there are (a slot whose old and new life overlap is one worker). */
  readonly workers: number;
  /** Each live worker's state by slot. */
  readonly states: ReadonlyMap<number, WorkerState>;
  /** The worker count a supervisor aims for; absent when nothing sets one. */
  readonly desired?: number | undefined;
}

/**
 * `gunicorn_workers`, `gunicorn_workers_desired` (when known) and
 * `gunicorn_worker_state` of one reading of the worker table, as snapshot
 * metrics built from scratch. `startTimeMs` is the points' start time: a
 * stable one lets an unchanged table compare equal to the last snapshot's,
 * so an idle primary's flush stays a lease renewal.
 *
 * Why not OpenTelemetry observable gauges: the SDK's cumulative storage keeps
 * reporting the last value of a series its callback no longer observes, so a
 * slot retired by TTOU kept its state series forever, frozen at whatever it
 * read last (`running` = 1 when no collection fell between its stop and its
 * exit). Built here at every snapshot, a slot that is gone has no series.
 */
export function workerTableMetrics(reading: WorkerTableReading, startTimeMs: number): SnapshotMetric[] {
  const metrics = [catalogueMetric(CATALOGUE.workers, 'gauge', 'int', [{ attributes: {}, startTimeMs, value: reading.workers }])];
  if (reading.desired !== undefined) metrics.push(catalogueMetric(CATALOGUE.workersDesired, 'gauge', 'int', [{ attributes: {}, startTimeMs, value: reading.desired }]));
  const statePoints: SnapshotPoint[] = [];
  for (const [slot, current] of reading.states) {
    for (const state of WORKER_STATES) {
      statePoints.push({ attributes: { [LABEL.workerId]: String(slot), [LABEL.state]: state }, startTimeMs, value: state === current ? 1 : 0 });
    }
  }
  metrics.push(catalogueMetric(CATALOGUE.state, 'gauge', 'int', statePoints));
  return metrics;
}
