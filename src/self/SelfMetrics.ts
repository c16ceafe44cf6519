import { CATALOGUE, LABEL } from '../catalogue/MetricCatalogue';

/**
 * Counters and gauges about the exporter itself (store errors, export errors,
 * store health, scrape time). Plain numbers in a map: recording one is a map
 * update, safe from any code path. {@link toPoints} hands them to whoever turns
 * them into snapshot metrics or OpenTelemetry data.
 */
export class SelfMetrics {
  private readonly storeErrors = new Map<string, number>();
  private readonly exportErrors = new Map<string, number>();
  private readonly storeUp = new Map<string, number>();
  private readonly identityConflicts = new Map<string, number>();
  private lastScrapeSeconds: number | undefined;
  private instrumentationErrors = 0;

  /** Count one failed store operation (`write`, `read`, `retire`, ...). */
  recordStoreError(store: string, operation: string): void {
    const key = `${store}\u0000${operation}`;
    this.storeErrors.set(key, (this.storeErrors.get(key) ?? 0) + 1);
  }

  /** Count one failed push to an exporter (`otlp`). */
  recordExportError(exporter: string): void {
    this.exportErrors.set(exporter, (this.exportErrors.get(exporter) ?? 0) + 1);
  }

  /**
   * Count one newly found pair of live processes claiming the same identity
   * (`service.instance.id` of `service`, same worker slot, different pid or start time).
   */
  recordIdentityConflict(instance: string, service: string): void {
    const key = `${service}\u0000${instance}`;
    this.identityConflicts.set(key, (this.identityConflicts.get(key) ?? 0) + 1);
  }

  /** The running total of exceptions the HTTP instrumentation caught (it keeps the count). */
  setInstrumentationErrors(total: number): void {
    this.instrumentationErrors = total;
  }

  /** Whether the last read of the store succeeded. */
  setStoreUp(store: string, up: boolean): void {
    this.storeUp.set(store, up ? 1 : 0);
  }

  /** How long the last scrape took to read, merge and render. */
  setScrapeDuration(seconds: number): void {
    this.lastScrapeSeconds = seconds;
  }

  /** Current values as (catalogue name, attributes, value) triples. */
  toPoints(): { name: string; kind: 'counter' | 'gauge'; attributes: Record<string, string>; value: number }[] {
    const points: { name: string; kind: 'counter' | 'gauge'; attributes: Record<string, string>; value: number }[] = [];
    for (const [key, value] of this.storeErrors) {
      const [store = '', operation = ''] = key.split('\u0000');
      points.push({ name: CATALOGUE.storeErrors.name, kind: 'counter', attributes: { [LABEL.store]: store, [LABEL.operation]: operation }, value });
    }
    for (const [exporter, value] of this.exportErrors) {
      points.push({ name: CATALOGUE.exportErrors.name, kind: 'counter', attributes: { [LABEL.exporter]: exporter }, value });
    }
    for (const [store, value] of this.storeUp) {
      points.push({ name: CATALOGUE.storeUp.name, kind: 'gauge', attributes: { [LABEL.store]: store }, value });
    }
    for (const [key, value] of this.identityConflicts) {
      const [service = '', instance = ''] = key.split('\u0000');
      const attributes = { [LABEL.serviceName]: service, [LABEL.serviceInstanceId]: instance };
      points.push({ name: CATALOGUE.identityConflicts.name, kind: 'counter', attributes, value });
    }
    if (this.instrumentationErrors > 0) {
      points.push({ name: CATALOGUE.instrumentationErrors.name, kind: 'counter', attributes: {}, value: this.instrumentationErrors });
    }
    if (this.lastScrapeSeconds !== undefined) {
      points.push({ name: CATALOGUE.scrapeDuration.name, kind: 'gauge', attributes: {}, value: this.lastScrapeSeconds });
    }
    return points;
  }
}
