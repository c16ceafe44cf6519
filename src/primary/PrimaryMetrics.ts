import type { Counter, Meter } from '@opentelemetry/api';
import { CATALOGUE, LABEL } from '../catalogue/MetricCatalogue';
import type { SnapshotMetric } from '../snapshot/Snapshot';
import type { SlotExit, WorkerState } from './ClusterSupervisor';
import { workerTableMetrics } from './workerTableMetrics';
import type { SupervisorReason } from '../supervisor/restartReasons';

/** What the primary's worker-table series are read from. */
export interface WorkerTable {
  /** Live workers' states by slot; a single process reports itself as slot 0, running. */
  workerStates(): ReadonlyMap<number, WorkerState>;
  /** The worker count a supervisor aims for; absent when the app forks its own workers. */
  desiredWorkers?(): number;
}

/**
 * The metrics only the primary can know: worker exits and restarts, live
 * workers and their states. Exits are rare, so they go through ordinary
 * OpenTelemetry instruments; the worker table is read at every snapshot.
 */
export class PrimaryMetrics {
  private readonly workerRestarts: Counter;
  private readonly workerRestartCount: Counter;
  private readonly masterRestarts: Counter;
  private readonly masterRestartCount: Counter;
  /** The start time of the worker-table series. */
  private readonly sinceMs = Date.now();

  constructor(
    meter: Meter,
    private readonly table: WorkerTable,
  ) {
    this.workerRestarts = counter(meter, CATALOGUE.workerRestarts);
    this.workerRestartCount = counter(meter, CATALOGUE.workerRestartCount);
    this.masterRestarts = counter(meter, CATALOGUE.masterRestarts);
    this.masterRestartCount = counter(meter, CATALOGUE.masterRestartCount);
  }

  /**
   * The worker table now, as snapshot metrics (see {@link workerTableMetrics}
   * for why these are not observable gauges); the reader adds them to every
   * snapshot of the primary.
   */
  tableMetrics(): SnapshotMetric[] {
    const states = this.table.workerStates();
    return workerTableMetrics({ workers: states.size, states, desired: this.table.desiredWorkers?.() }, this.sinceMs);
  }

  /** Record one worker exit on all four upstream restart counters. */
  recordExit(exit: SlotExit): void {
    const workerId = String(exit.slot);
    this.workerRestarts.add(1, { [LABEL.workerId]: workerId, [LABEL.reason]: exit.reason });
    this.workerRestartCount.add(1, { [LABEL.workerId]: workerId, [LABEL.restartType]: exit.restartType, [LABEL.reason]: exit.reason });
    this.masterRestarts.add(1, { [LABEL.reason]: exit.reason });
    this.masterRestartCount.add(1, { [LABEL.workerId]: workerId, [LABEL.reason]: exit.reason, [LABEL.restartType]: exit.restartType });
  }

  /**
   * Count a master signal that ends no worker by itself (TTIN, USR1, USR2) on
   * the master counter, as upstream counts master signals; signals that do end
   * workers are counted through those workers' exits.
   */
  recordMasterSignal(reason: SupervisorReason): void {
    this.masterRestarts.add(1, { [LABEL.reason]: reason });
  }
}

function counter(meter: Meter, definition: { name: string; help: string; unit: string }): Counter {
  return meter.createCounter(definition.name, { description: definition.help, unit: definition.unit });
}
