import * as grpc from '@grpc/grpc-js';
import { ExportRecorder } from './ExportRecorder';
import { decodeProtobufRequest, encodeEmptyResponse, METRICS_EXPORT_PATH } from './OtlpProto';
import { normaliseRequest } from './ReceivedMetrics';

/** The metrics service, with bodies left raw so the handler decodes them with the .proto types. */
const SERVICE: grpc.ServiceDefinition = {
  Export: {
    path: METRICS_EXPORT_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: (value: Buffer) => value,
    requestDeserialize: (bytes: Buffer) => bytes,
    responseSerialize: (value: Buffer) => value,
    responseDeserialize: (bytes: Buffer) => bytes,
  },
};

/**
 * A loopback OTLP/gRPC metrics receiver on 127.0.0.1 (grpc-js server, bodies
 * decoded with the official .proto definitions). `mode` as for the HTTP
 * receiver; a status mode answers UNAVAILABLE.
 */
export class OtlpGrpcReceiver extends ExportRecorder {
  private readonly server = new grpc.Server();
  port = 0;

  private constructor() {
    super();
    this.server.addService(SERVICE, { Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => this.handle(call, callback) });
  }

  /** Start listening on `port` (0: any free port). */
  static async start(port = 0): Promise<OtlpGrpcReceiver> {
    const receiver = new OtlpGrpcReceiver();
    receiver.port = await new Promise<number>((resolve, reject) => {
      receiver.server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
    });
    return receiver;
  }

  /** Endpoint for the gRPC exporter (plain-text). */
  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Stop at once, dropping held calls. */
  async close(): Promise<void> {
    this.server.forceShutdown();
  }

  private handle(call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>): void {
    const finished = this.opened();
    call.on('cancelled', finished);
    const mode = this.mode;
    if (mode === 'hang') return;
    if (typeof mode === 'object') {
      finished();
      callback({ code: grpc.status.UNAVAILABLE, details: `refused by test receiver (${mode.status})` });
      return;
    }
    try {
      const metadata = call.metadata.getMap();
      const headers: Record<string, string> = {};
      for (const [key, value] of Object.entries(metadata)) headers[key] = Buffer.isBuffer(value) ? value.toString('base64') : String(value);
      this.record({
        protocol: 'grpc',
        path: METRICS_EXPORT_PATH,
        headers,
        compressed: undefined,
        resources: normaliseRequest(decodeProtobufRequest(call.request)),
      });
      finished();
      callback(null, Buffer.from(encodeEmptyResponse()));
    } catch (error) {
      finished();
      callback({ code: grpc.status.INVALID_ARGUMENT, details: String(error) });
    }
  }
}
