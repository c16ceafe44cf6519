/**
 * The app's own OpenTelemetry MeterProviders, as far as this package sees them.
 *
 * Two jobs, both about leaving an app's own SDK exactly as it would be without
 * the preload:
 *
 * - The global MeterProvider. The preload registers its own, so apps that only
 *   use `@opentelemetry/api` (`metrics.getMeter(...)`) get their instruments into
 *   the merged view with no code. An app that brings its own SDK must be able to
 *   register *its* provider instead (the API refuses a second registration and
 *   logs an error): as soon as the app loads an OpenTelemetry metrics SDK (the
 *   module load hook on `@opentelemetry/sdk-metrics` / `@opentelemetry/sdk-node`)
 *   or adds a {@link ClusterMetricReader} to a provider, ours steps aside, before
 *   the app's `setGlobalMeterProvider` runs. Instruments already obtained from
 *   ours keep recording into the merged view.
 * - The app's readers: every {@link ClusterMetricReader} an app adds to its own
 *   provider is collected with each snapshot, so the app's instruments reach the
 *   merged view too.
 */
import { createNoopMeter, metrics, type MeterProvider as ApiMeterProvider } from '@opentelemetry/api';
import type { CollectionResult, MetricProducer, ScopeMetrics } from '@opentelemetry/sdk-metrics';
import { emptyResource } from '@opentelemetry/resources';

/** What this registry needs of a reader an app added to its provider. */
export interface AppReader {
  collect(): Promise<CollectionResult>;
}

const EMPTY_RESOURCE = emptyResource();

let ours: ApiMeterProvider | undefined;
const readers = new Set<AppReader>();

/**
 * Make `provider` the global MeterProvider unless one is registered already
 * (an app that set up its SDK before calling `start()`): then the app's stays,
 * and no registration error is logged at it.
 */
export function registerGlobalMeterProvider(provider: ApiMeterProvider): void {
  if (isRegistered()) return;
  if (metrics.setGlobalMeterProvider(provider)) ours = provider;
}

/** The app is setting up its own SDK: give the global slot back if we hold it. Idempotent. */
export function yieldGlobalMeterProvider(): void {
  if (ours === undefined) return;
  // disable() only clears the slot; meters handed out before keep working on our provider.
  if (metrics.getMeterProvider() === ours) metrics.disable();
  ours = undefined;
}

/** True while the global MeterProvider is this package's. */
export function holdsGlobalMeterProvider(): boolean {
  return ours !== undefined && metrics.getMeterProvider() === ours;
}

/** An app's {@link ClusterMetricReader} joined its provider. */
export function addAppReader(reader: AppReader): void {
  readers.add(reader);
  yieldGlobalMeterProvider();
}

/** Whether any app reader is registered (its instruments are collected at every flush). */
export function hasAppReaders(): boolean {
  return readers.size > 0;
}

/** The reader's provider shut down. */
export function removeAppReader(reader: AppReader): void {
  readers.delete(reader);
}

/** A MetricProducer over every app reader: what the process snapshot collects besides its own instruments. */
export const appMetricsProducer: MetricProducer = {
  async collect(): Promise<CollectionResult> {
    const scopeMetrics: ScopeMetrics[] = [];
    const errors: unknown[] = [];
    for (const reader of readers) {
      try {
        const result = await reader.collect();
        scopeMetrics.push(...result.resourceMetrics.scopeMetrics);
        errors.push(...result.errors);
      } catch (error) {
        errors.push(error);
      }
    }
    return { resourceMetrics: { resource: EMPTY_RESOURCE, scopeMetrics }, errors };
  },
};

/**
 * Whether any MeterProvider is registered globally. The API has no query for
 * it: `getMeterProvider()` returns its no-op provider when none is, whose
 * meters are the API's no-op meter.
 */
function isRegistered(): boolean {
  const meter = metrics.getMeterProvider().getMeter('otel-cluster-exporter.probe');
  return !(meter instanceof (createNoopMeter().constructor as new () => object));
}
