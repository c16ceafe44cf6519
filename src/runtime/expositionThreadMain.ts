/**
 * Entry of the exposition thread (see ExpositionThread): opens its own
 * connection to the store and runs the merged view's {@link Exposition}.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import type { Snapshot } from '../snapshot/Snapshot';
import { SelfMetrics } from '../self/SelfMetrics';
import { Exposition } from './Exposition';
import type { ExpositionThreadData, ForwardedSelfMetric, ParentMessage, ThreadMessage } from './ExpositionThread';
import { buildResource } from './Runtime';
import { openStore } from './storeFactory';

/** How long a collection waits for the process's own snapshot before using its stored copy. */
const LOCAL_SNAPSHOT_TIMEOUT_MS = 1000;

/** Self-metrics that also tell the process's own, which its snapshot carries. */
class ForwardingSelfMetrics extends SelfMetrics {
  constructor(private readonly port: MessagePort) {
    super();
  }
  override recordStoreError(store: string, operation: string): void {
    this.forward('recordStoreError', store, operation);
  }
  override recordExportError(exporter: string): void {
    this.forward('recordExportError', exporter);
  }
  override recordIdentityConflict(instance: string, service: string): void {
    this.forward('recordIdentityConflict', instance, service);
  }
  override setStoreUp(store: string, up: boolean): void {
    this.forward('setStoreUp', store, up);
  }
  override setScrapeDuration(seconds: number): void {
    this.forward('setScrapeDuration', seconds);
  }
  private forward(method: ForwardedSelfMetric, ...args: (string | number | boolean)[]): void {
    this.port.postMessage({ type: 'self', method, args } satisfies ThreadMessage);
  }
}

/** Asks the parent for its snapshot; undefined when it does not answer in time. */
class LocalSnapshots {
  private nextId = 0;
  private readonly waiting = new Map<number, (snapshot: Snapshot | undefined) => void>();

  constructor(private readonly port: MessagePort) {}

  request(): Promise<Snapshot | undefined> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settle(id, undefined), LOCAL_SNAPSHOT_TIMEOUT_MS);
      this.waiting.set(id, (snapshot) => {
        clearTimeout(timer);
        resolve(snapshot);
      });
      this.port.postMessage({ type: 'snapshot-request', id } satisfies ThreadMessage);
    });
  }

  settle(id: number, snapshot: Snapshot | undefined): void {
    const resolve = this.waiting.get(id);
    this.waiting.delete(id);
    resolve?.(snapshot);
  }
}

function main(port: MessagePort): void {
  const { config, directory, labelInstance } = workerData as ExpositionThreadData;
  const selfMetrics = new ForwardingSelfMetrics(port);
  const store = openStore(config, directory, selfMetrics, 'instance');
  const snapshots = new LocalSnapshots(port);
  const exposition = Exposition.start({
    config,
    store,
    resource: buildResource(config),
    selfMetrics,
    labelInstance,
    // Inside the thread: the parent keeps the thread itself from holding the process open.
    keepProcessAlive: true,
    localSnapshot: () => snapshots.request(),
  });
  port.on('message', (message: ParentMessage) => {
    if (message.type === 'snapshot') return snapshots.settle(message.id, message.snapshot);
    void exposition
      .close()
      .then(() => store.close())
      .catch(() => undefined)
      // Ends this thread only; whatever the exporters left open goes with it.
      .finally(() => process.exit(0));
  });
}

if (parentPort !== null) main(parentPort);
