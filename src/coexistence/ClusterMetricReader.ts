/**
 * The one line an app with its own OpenTelemetry SDK adds to get its
 * instruments into the merged cluster view as well:
 *
 * ```js
 * new MeterProvider({ readers: [myExporterReader, new ClusterMetricReader()] })
 * new NodeSDK({ metricReaders: [myExporterReader, new ClusterMetricReader()] })
 * ```
 *
 * It is a pull reader: it never exports by itself; the worker's snapshot
 * collects it on every flush (cumulative, the provider's own views and
 * aggregations applied). Without the package running in the process it
 * collects nothing and costs nothing.
 */
import { MetricReader } from '@opentelemetry/sdk-metrics';
import { addAppReader, removeAppReader } from './AppMeterProviders';

/** A MetricReader for the app's own MeterProvider that feeds this package's snapshots. */
export class ClusterMetricReader extends MetricReader {
  /** Called by the provider this reader is added to. */
  protected override onInitialized(): void {
    addAppReader(this);
  }

  protected override async onShutdown(): Promise<void> {
    removeAppReader(this);
  }

  protected override async onForceFlush(): Promise<void> {
    // Nothing buffered: the snapshot collects on its own schedule.
  }
}
