/**
 * Where HTTP/2 server streams are seen: the one place that knows how, per Node version.
 *
 * - Node ≥ 24.3 publishes `http2.server.stream.created` on diagnostics_channel for every
 *   stream a server receives (before the compatibility `request` or the `stream` event):
 *   that is used and nothing is patched.
 * - Older Nodes (20, 22) publish nothing for HTTP/2. The least invasive hook is the one
 *   the HTTP/1 side already uses for `clientError`: `emit` is shadowed on each HTTP/2
 *   server instance (found from `net.server.socket`, so no server is touched before it
 *   accepts a connection) to see its `'stream'` event. `'stream'` fires for both APIs,
 *   because the compatibility layer itself listens to it; the original `emit` runs
 *   unchanged with the same arguments.
 *
 * Both paths hand the stream to the same callback; a stream seen twice is the caller's
 * to ignore (it marks the streams it tracks).
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';

/** Node's own channel for new server streams (Node ≥ 24.3). */
export const HTTP2_STREAM_CREATED_CHANNEL = 'http2.server.stream.created';

/** Receives every server stream with its request headers. */
export type Http2StreamListener = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void;

const kServerObserved = Symbol('otel-cluster-exporter.http2Observed');

/** True when this Node publishes the HTTP/2 server stream channels. */
export function hasNativeHttp2Channels(version: string = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split('.').map((part) => Number.parseInt(part, 10));
  return major > 24 || (major === 24 && minor >= 3);
}

/**
 * True for `http2.createServer` / `createSecureServer` instances. Duck-typed on
 * `updateSettings`, which only HTTP/2 servers have, so `node:http2` is never loaded here.
 */
export function isHttp2Server(server: unknown): boolean {
  return (
    typeof server === 'object' &&
    server !== null &&
    typeof (server as { updateSettings?: unknown }).updateSettings === 'function' &&
    typeof (server as { emit?: unknown }).emit === 'function'
  );
}

/** Subscribes to server streams; {@link observeServer} must be offered every server that accepts a connection. */
export class Http2Streams {
  private readonly native = hasNativeHttp2Channels();
  private subscribed = false;

  constructor(private readonly listener: Http2StreamListener) {}

  /** Start listening (the native channel, where there is one). */
  subscribe(): void {
    if (this.subscribed) return;
    this.subscribed = true;
    if (this.native) diagnosticsChannel.subscribe(HTTP2_STREAM_CREATED_CHANNEL, this.onCreated);
  }

  /** Stop listening; servers already observed keep their (then silent) observer. */
  unsubscribe(): void {
    if (!this.subscribed) return;
    this.subscribed = false;
    if (this.native) diagnosticsChannel.unsubscribe(HTTP2_STREAM_CREATED_CHANNEL, this.onCreated);
  }

  /** On Nodes without the native channel, watch this server's `'stream'` events. */
  observeServer(server: object): void {
    if (this.native || !isHttp2Server(server)) return;
    const target = server as { [kServerObserved]?: boolean; emit: (event: string | symbol, ...args: unknown[]) => boolean };
    if (target[kServerObserved] === true) return;
    target[kServerObserved] = true;
    const originalEmit = target.emit;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const streams = this;
    target.emit = function emitObserved(this: unknown, event: string | symbol, a?: unknown, b?: unknown): boolean {
      if (event === 'stream' && streams.subscribed) streams.deliver(a as ServerHttp2Stream, b as IncomingHttpHeaders);
      // eslint-disable-next-line prefer-rest-params
      return Reflect.apply(originalEmit, this, arguments) as boolean;
    };
  }

  private readonly onCreated = (message: unknown): void => {
    const { stream, headers } = message as { stream: ServerHttp2Stream; headers: IncomingHttpHeaders };
    this.deliver(stream, headers);
  };

  private deliver(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    // The listener guards itself; this only keeps a malformed publisher from reaching Node's emit.
    try {
      if (typeof stream === 'object' && stream !== null && typeof headers === 'object' && headers !== null) {
        this.listener(stream, headers);
      }
    } catch {
      // Nothing here may disturb the server's own handling of the stream.
    }
  }
}
