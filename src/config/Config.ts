/**
 * The effective configuration, after defaults, the YAML file and the
 * environment have been applied (in that order, the later winning). The type
 * is inferred from the schema (`schema.ts`), where every key is documented;
 * the names below are its parts, for code that needs only one section.
 */
import type * as v from 'valibot';
import type { EXPORTER_SCHEMA } from './schema';

/** `T` with every property and array read-only, all the way down. */
export type DeepReadonly<T> = T extends (infer I)[]
  ? readonly DeepReadonly<I>[]
  : T extends readonly (infer I)[]
    ? readonly DeepReadonly<I>[]
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;

/** The whole effective configuration (see the README's configuration reference for every key). */
export type ExporterConfig = DeepReadonly<v.InferOutput<typeof EXPORTER_SCHEMA>> & {
  /** The YAML file the configuration came from, if any. */
  readonly sourceFile?: string;
};

/** The /metrics endpoint and the embedded store's directory (`exporter.prometheus`). */
export type PrometheusConfig = ExporterConfig['prometheus'];
/** HTTPS for the /metrics endpoint (`exporter.prometheus.ssl`). */
export type EndpointTlsConfig = PrometheusConfig['ssl'];
/** Supervisor settings of `run`; upstream Gunicorn keys (`exporter.gunicorn`). */
export type GunicornConfig = ExporterConfig['gunicorn'];
/** The Redis store (`exporter.redis`). */
export type RedisConfig = ExporterConfig['redis'];
/** What workers record and how often they persist it (`exporter.metrics`). */
export type MetricsConfig = ExporterConfig['metrics'];
/** OpenTelemetry resource, exporter selection and OTLP push (`exporter.otel`). */
export type OtelConfig = ExporterConfig['otel'];
/** The OTLP destination (`exporter.otel.otlp`). */
export type OtlpConfig = OtelConfig['otlp'];
/** Where the merged view goes. */
export type MetricsExporterName = OtelConfig['exporters'][number];
/** OTLP wire protocol. */
export type OtlpProtocol = OtlpConfig['protocol'];
/** Which snapshots `serve` (and the primary) merge. */
export type ServeScope = ExporterConfig['serve']['scope'];
