import type { Counter, Gauge, Histogram } from '@opentelemetry/api';
import { MeterProvider, MetricReader, type CollectionResult, type MetricCollectOptions, type MetricProducer } from '@opentelemetry/sdk-metrics';
import { CATALOGUE, LABEL, SCOPE_NAME } from '../../../src/catalogue/MetricCatalogue';

/** A reader that only collects when asked: the test's window into a MeterProvider. */
class PullReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/**
 * A MetricProducer standing in for the merged view: a real MeterProvider with
 * catalogue instruments (names, units, descriptions, buckets from
 * CATALOGUE), cumulative as the merged view is. It remembers what it returned
 * last, so a test can compare a receiver's decoded export value by value with
 * what the producer handed over at that moment.
 */
export class CatalogueProducer implements MetricProducer {
  private readonly reader = new PullReader();
  private readonly provider = new MeterProvider({ readers: [this.reader] });
  private readonly requests: Counter;
  private readonly duration: Histogram;
  private readonly memory: Gauge;
  /** The result of the latest collect. */
  last: CollectionResult | undefined;
  collects = 0;

  constructor() {
    const meter = this.provider.getMeter(SCOPE_NAME);
    this.requests = meter.createCounter(CATALOGUE.requests.name, { unit: CATALOGUE.requests.unit, description: CATALOGUE.requests.help });
    this.duration = meter.createHistogram(CATALOGUE.requestDuration.name, {
      unit: CATALOGUE.requestDuration.unit,
      description: CATALOGUE.requestDuration.help,
      advice: { explicitBucketBoundaries: [...CATALOGUE.requestDuration.buckets] },
    });
    this.memory = meter.createGauge(CATALOGUE.memory.name, { unit: CATALOGUE.memory.unit, description: CATALOGUE.memory.help });
  }

  /** One finished request in worker `workerId`. */
  recordRequest(workerId: string, seconds: number, endpoint = '/items/:id', status = '200'): void {
    const attributes = { [LABEL.workerId]: workerId, [LABEL.method]: 'GET', [LABEL.endpoint]: endpoint, [LABEL.status]: status };
    this.requests.add(1, attributes);
    this.duration.record(seconds, attributes);
  }

  /** The resident memory of worker `workerId`. */
  setMemory(workerId: string, bytes: number): void {
    this.memory.record(bytes, { [LABEL.workerId]: workerId });
  }

  async collect(options?: MetricCollectOptions): Promise<CollectionResult> {
    const result = await this.reader.collect(options);
    this.last = result;
    this.collects += 1;
    return result;
  }

  async shutdown(): Promise<void> {
    await this.provider.shutdown();
  }
}
