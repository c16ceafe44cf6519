import { dirname, join, relative, resolve } from 'node:path';
import protobuf from 'protobufjs';

/**
 * The official OTLP protobuf definitions, loaded with protobufjs from the
 * copy of opentelemetry-proto that @elastic/mockotlpserver ships on npm, so
 * test receivers decode what the exporter sends without trusting the
 * exporter's own generated code.
 */
const PROTO_ROOT = dirname(require.resolve('@elastic/mockotlpserver/package.json'));
const SERVICE_FILE = 'opentelemetry/proto/collector/metrics/v1/metrics_service.proto';

const REQUEST_TYPE = 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest';
const RESPONSE_TYPE = 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse';

/** gRPC method path of the metrics service. */
export const METRICS_EXPORT_PATH = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';

let cached: { request: protobuf.Type; response: protobuf.Type } | undefined;

function types(): { request: protobuf.Type; response: protobuf.Type } {
  if (cached) return cached;
  const root = new protobuf.Root();
  // The .proto files import each other by paths relative to the package
  // root ("opentelemetry/proto/common/v1/common.proto"); protobufjs resolves
  // them relative to the importing file unless told otherwise.
  root.resolvePath = (origin, target) => {
    if (target.startsWith(PROTO_ROOT)) return target;
    if (origin === '' || target.startsWith('opentelemetry/')) return join(PROTO_ROOT, target);
    return resolve(dirname(origin), target);
  };
  root.loadSync(SERVICE_FILE);
  root.resolveAll();
  cached = { request: root.lookupType(REQUEST_TYPE), response: root.lookupType(RESPONSE_TYPE) };
  return cached;
}

/** How decoded messages become plain objects: 64-bit integers as decimal strings, enums as numbers. */
const TO_OBJECT: protobuf.IConversionOptions = { longs: String, enums: Number, bytes: String, defaults: false, arrays: true };

/** A decoded ExportMetricsServiceRequest as a plain object (camelCase fields). */
export type RawExportRequest = Record<string, unknown>;

/** Decode a protobuf-encoded ExportMetricsServiceRequest. */
export function decodeProtobufRequest(body: Uint8Array): RawExportRequest {
  const { request } = types();
  return request.toObject(request.decode(body), TO_OBJECT);
}

/**
 * Read an OTLP/JSON ExportMetricsServiceRequest through the same message type,
 * so JSON and protobuf bodies come out in one shape.
 */
export function decodeJsonRequest(body: Uint8Array): RawExportRequest {
  const { request } = types();
  const json = JSON.parse(Buffer.from(body).toString('utf8'), hexIdsToBase64) as Record<string, unknown>;
  return request.toObject(request.fromObject(json), TO_OBJECT);
}

/**
 * OTLP/JSON spells trace and span ids in hex, where protobufjs's JSON mapping
 * expects base64 for bytes fields: translate them while parsing.
 */
function hexIdsToBase64(key: string, value: unknown): unknown {
  if ((key === 'traceId' || key === 'spanId') && typeof value === 'string' && /^[0-9a-f]*$/i.test(value)) {
    return Buffer.from(value, 'hex').toString('base64');
  }
  return value;
}

/** An empty (fully accepted) ExportMetricsServiceResponse, protobuf-encoded. */
export function encodeEmptyResponse(): Uint8Array {
  const { response } = types();
  return response.encode(response.create({})).finish();
}

/** For diagnostics: where the .proto files were read from. */
export function protoSource(): string {
  return relative(process.cwd(), join(PROTO_ROOT, SERVICE_FILE));
}
