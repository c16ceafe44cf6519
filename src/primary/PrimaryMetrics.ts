import type { Counter, Meter } from '@opentelemetry/api';
import { CATALOGUE, LABEL } from '../catalogue/MetricCatalogue';
import type { SlotExit, WorkerState } from './ClusterSupervisor';
import { WORKER_STATES } from './ClusterSupervisor';
import type { SupervisorReason } from '../supervisor/restartReasons';

/** What the primary's observable gauges read. */
export interface WorkerTable {
  /** Live workers' states by slot; a single process reports itself as slot 0, running. */
  workerStates(): ReadonlyMap<number, WorkerState>;
  /** The worker count a supervisor aims for; absent when the app forks its own workers. */
  desiredWorkers?(): number;
}

/**
 * The metrics only the primary can know: worker exits and restarts, live
 * workers and their states. Exits are rare, so they go through ordinary
 * OpenTelemetry instruments.
 */
export class PrimaryMetrics {
  private readonly workerRestarts: Counter;
  private readonly workerRestartCount: Counter;
  private readonly masterRestarts: Counter;
  private readonly masterRestartCount: Counter;

  constructor(meter: Meter, table: WorkerTable) {
    this.workerRestarts = counter(meter, CATALOGUE.workerRestarts);
    this.workerRestartCount = counter(meter, CATALOGUE.workerRestartCount);
    this.masterRestarts = counter(meter, CATALOGUE.masterRestarts);
    this.masterRestartCount = counter(meter, CATALOGUE.masterRestartCount);

    meter
      .createObservableGauge(CATALOGUE.workers.name, { description: CATALOGUE.workers.help, unit: CATALOGUE.workers.unit })
      .addCallback((result) => result.observe(table.workerStates().size));
    const { desiredWorkers } = table;
    if (desiredWorkers) {
      meter
        .createObservableGauge(CATALOGUE.workersDesired.name, { description: CATALOGUE.workersDesired.help, unit: CATALOGUE.workersDesired.unit })
        .addCallback((result) => result.observe(desiredWorkers.call(table)));
    }
    meter.createObservableGauge(CATALOGUE.state.name, { description: CATALOGUE.state.help, unit: CATALOGUE.state.unit }).addCallback((result) => {
      for (const [slot, current] of table.workerStates()) {
        for (const state of WORKER_STATES) {
          result.observe(state === current ? 1 : 0, { [LABEL.workerId]: String(slot), [LABEL.state]: state });
        }
      }
    });
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
