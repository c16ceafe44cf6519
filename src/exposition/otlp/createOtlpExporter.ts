import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';
import type { OtlpConfig, OtlpProtocol } from '../../config/Config';
import { sendExemplars } from './otlpExemplars';

type HttpExporterModule = typeof import('@opentelemetry/exporter-metrics-otlp-http');
type ProtoExporterModule = typeof import('@opentelemetry/exporter-metrics-otlp-proto');
type GrpcExporterModule = typeof import('@opentelemetry/exporter-metrics-otlp-grpc');
type GrpcModule = typeof import('@grpc/grpc-js');
type HttpExporterConfig = NonNullable<ConstructorParameters<HttpExporterModule['OTLPMetricExporter']>[0]>;
type GrpcExporterConfig = NonNullable<ConstructorParameters<GrpcExporterModule['OTLPMetricExporter']>[0]>;

/** The collector's standard ports when no endpoint is configured. */
const DEFAULT_HTTP_ENDPOINT = 'http://localhost:4318/v1/metrics';
const DEFAULT_GRPC_ENDPOINT = 'http://localhost:4317';
const METRICS_PATH = 'v1/metrics';

/**
 * The URL the exporter posts to.
 *
 * For the HTTP protocols an endpoint without a path (`http://collector:4318`,
 * what `OTEL_EXPORTER_OTLP_ENDPOINT` usually holds) gets `/v1/metrics`
 * appended; an endpoint with a path is used as given, as the signal-specific
 * `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` is. gRPC endpoints are used as given.
 *
 * @throws Error naming the endpoint when it is not an absolute URL (HTTP protocols).
 */
export function resolveOtlpUrl(endpoint: string, protocol: OtlpProtocol): string {
  const trimmed = endpoint.trim();
  if (protocol === 'grpc') return trimmed === '' ? DEFAULT_GRPC_ENDPOINT : trimmed;
  if (trimmed === '') return DEFAULT_HTTP_ENDPOINT;
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new Error(`OTLP endpoint "${endpoint}" is not an absolute URL; expected e.g. http://collector:4318 or http://collector:4318/v1/metrics`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`OTLP endpoint "${endpoint}" must use http:// or https:// for protocol ${protocol}`);
  }
  if (url.pathname === '' || url.pathname === '/') {
    return `${trimmed.replace(/\/+$/, '')}/${METRICS_PATH}`;
  }
  return trimmed;
}

/**
 * Build the official OTLP metric exporter for the configured protocol.
 *
 * Each protocol's package is loaded only when chosen, so a process that pushes
 * http/protobuf never loads gRPC. `concurrencyLimit: 1` makes the exporter
 * itself refuse a second request while one runs: together with the guard this
 * bounds memory to one serialized batch whatever the collector does.
 *
 * @param requestTimeoutMs per-export limit handed to the exporter (its retries included).
 */
export function createOtlpExporter(otlp: OtlpConfig, requestTimeoutMs: number): PushMetricExporter {
  const url = resolveOtlpUrl(otlp.endpoint, otlp.protocol);
  const timeoutMillis = Math.max(1, Math.floor(requestTimeoutMs));
  if (otlp.protocol === 'grpc') return createGrpcExporter(url, otlp, timeoutMillis);
  const config: HttpExporterConfig = {
    url,
    headers: { ...otlp.headers },
    timeoutMillis,
    concurrencyLimit: 1,
    compression: compressionOf<HttpExporterConfig>(otlp),
  };
  if (otlp.protocol === 'http/json') {
    const { OTLPMetricExporter } = require('@opentelemetry/exporter-metrics-otlp-http') as HttpExporterModule;
    return withExemplars(new OTLPMetricExporter(config), 'json');
  }
  const { OTLPMetricExporter } = require('@opentelemetry/exporter-metrics-otlp-proto') as ProtoExporterModule;
  return withExemplars(new OTLPMetricExporter(config), 'protobuf');
}

/** The exporter, made to carry the histogram exemplars too (see {@link sendExemplars}). */
function withExemplars(exporter: PushMetricExporter, encoding: 'json' | 'protobuf'): PushMetricExporter {
  sendExemplars(exporter, encoding);
  return exporter;
}

function createGrpcExporter(url: string, otlp: OtlpConfig, timeoutMillis: number): PushMetricExporter {
  const { Metadata } = require('@grpc/grpc-js') as GrpcModule;
  const { OTLPMetricExporter } = require('@opentelemetry/exporter-metrics-otlp-grpc') as GrpcExporterModule;
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(otlp.headers)) metadata.set(key.toLowerCase(), value);
  const config: GrpcExporterConfig = {
    url,
    metadata,
    timeoutMillis,
    concurrencyLimit: 1,
    compression: compressionOf<GrpcExporterConfig>(otlp),
  };
  return withExemplars(new OTLPMetricExporter(config), 'protobuf');
}

/**
 * The exporters type compression as an enum of a package this one does not
 * depend on directly; its values are the strings `gzip` and `none`.
 */
function compressionOf<C extends { compression?: unknown }>(otlp: OtlpConfig): C['compression'] {
  return otlp.compression as C['compression'];
}

/** Where an OTLP exporter for this configuration sends, for log lines. */
export function describeOtlpTarget(otlp: OtlpConfig): string {
  return `${resolveOtlpUrl(otlp.endpoint, otlp.protocol)} (${otlp.protocol})`;
}
