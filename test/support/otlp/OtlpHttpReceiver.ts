import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { ExportRecorder } from './ExportRecorder';
import { decodeJsonRequest, decodeProtobufRequest, encodeEmptyResponse } from './OtlpProto';
import { normaliseRequest } from './ReceivedMetrics';

/**
 * A loopback OTLP/HTTP metrics receiver on 127.0.0.1: accepts POST
 * /v1/metrics in http/protobuf and http/json, gunzips when Content-Encoding
 * says so, decodes with the official .proto definitions and records what it
 * got. Its `mode` makes it accept, hang (never answer) or fail with a status.
 */
export class OtlpHttpReceiver extends ExportRecorder {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  private constructor() {
    super();
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** Start listening on `port` (0: any free port). */
  static async start(port = 0): Promise<OtlpHttpReceiver> {
    const receiver = new OtlpHttpReceiver();
    await new Promise<void>((resolve, reject) => {
      receiver.server.once('error', reject);
      receiver.server.listen(port, '127.0.0.1', () => resolve());
    });
    receiver.port = (receiver.server.address() as AddressInfo).port;
    return receiver;
  }

  /** Base endpoint, as OTEL_EXPORTER_OTLP_ENDPOINT would hold it. */
  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Stop, dropping held (hung) requests and keep-alive connections. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // After close() no connection can arrive; drop the ones held open
    // (hung requests, the exporter's keep-alive sockets) so close completes.
    for (const socket of this.sockets) socket.destroy();
    this.server.closeAllConnections();
    await closed;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const finished = this.opened();
    res.on('close', finished);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const mode = this.mode;
      if (mode === 'hang') return; // never answer; close() destroys the socket
      if (typeof mode === 'object') {
        res.writeHead(mode.status, { 'content-type': 'text/plain' }).end('refused by test receiver');
        return;
      }
      this.accept(req, Buffer.concat(chunks), res);
    });
  }

  private accept(req: IncomingMessage, raw: Buffer, res: ServerResponse): void {
    try {
      const compressed = req.headers['content-encoding'] === 'gzip';
      const body = compressed ? gunzipSync(raw) : raw;
      const json = String(req.headers['content-type'] ?? '').startsWith('application/json');
      const decoded = json ? decodeJsonRequest(body) : decodeProtobufRequest(body);
      this.record({
        protocol: json ? 'http/json' : 'http/protobuf',
        path: req.url ?? '',
        headers: flatHeaders(req),
        compressed,
        resources: normaliseRequest(decoded),
      });
      if (json) res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      else res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(Buffer.from(encodeEmptyResponse()));
    } catch (error) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(String(error));
    }
  }
}

function flatHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}
