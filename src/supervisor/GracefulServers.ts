import cluster from 'node:cluster';
import diagnosticsChannel from 'node:diagnostics_channel';
import { Server as HttpServer } from 'node:http';
import type { ServerResponse } from 'node:http';
import { Server as HttpsServer } from 'node:https';
import { Server as NetServer } from 'node:net';
import type { Socket } from 'node:net';

const SERVER_SOCKET_CHANNEL = 'net.server.socket';
/**
 * How long after retiring begins idle keep-alive connections are closed. A
 * connection that carried a request meanwhile was answered with
 * `Connection: close` and is gone; one still idle now has been idle this long,
 * so closing it races a client no more than any keep-alive timeout does.
 */
export const IDLE_CLOSE_DELAY_MS = 500;
const REQUEST_START_CHANNEL = 'http.server.request.start';
/** Node's default `server.keepAliveTimeout`: a server still at it has not chosen its own. */
const NODE_DEFAULT_KEEP_ALIVE_MS = 5000;

type CloseCallback = (error?: Error) => void;
type ClosableServer = (HttpServer | HttpsServer) & { close(callback?: CloseCallback): unknown };
/** Node sets `_httpMessage` on a socket to the response it is writing (stable since Node 0.x, not public API). */
type ServerSocket = Socket & { _httpMessage?: ServerResponse | null };

/**
 * Worker side of a graceful retirement: when the master retires the worker
 * (`worker.disconnect()`), its HTTP servers stop accepting and drain without
 * failing a request, keep-alive clients included.
 *
 * Node's `server.close()` destroys idle keep-alive connections at once, and a
 * client that is just sending its next request on one gets ECONNRESET (under
 * load: one failed request per connection). So for a master-initiated
 * disconnect only, each server stops accepting without that sweep, every
 * response from then on carries `Connection: close`, and connections that
 * were idle all along are closed {@link IDLE_CLOSE_DELAY_MS} later. Responses
 * in flight whose headers are not sent yet get `Connection: close` too. When
 * the app itself calls `close()` the original method runs unchanged.
 *
 * Servers are found through the `net.server.socket` channel (once per
 * connection, not per request); the request channel is subscribed only once
 * the worker retires.
 */
export class GracefulServers {
  /** Open connections of every server seen, so a retirement can end them cleanly. */
  private readonly sockets = new WeakMap<ClosableServer, Set<ServerSocket>>();
  private retiring = false;

  /** @param keepAliveMs keep-alive timeout for servers still at Node's default; 0 leaves them alone. */
  constructor(private readonly keepAliveMs: number) {}

  start(): void {
    diagnosticsChannel.subscribe(SERVER_SOCKET_CHANNEL, this.onSocket);
  }

  stop(): void {
    diagnosticsChannel.unsubscribe(SERVER_SOCKET_CHANNEL, this.onSocket);
    if (this.retiring) diagnosticsChannel.unsubscribe(REQUEST_START_CHANNEL, this.onRequest);
  }

  private readonly onSocket = (message: unknown): void => {
    const server = (message as { socket?: { server?: unknown } }).socket?.server;
    if (!(server instanceof HttpServer || server instanceof HttpsServer)) return;
    const socket = (message as { socket: ServerSocket }).socket;
    let open = this.sockets.get(server);
    if (open === undefined) {
      open = new Set();
      this.sockets.set(server, open);
      if (this.keepAliveMs > 0 && server.keepAliveTimeout === NODE_DEFAULT_KEEP_ALIVE_MS) server.keepAliveTimeout = this.keepAliveMs;
      this.shadowClose(server);
    }
    const connections = open;
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  };

  /** An own `close` on the instance: the prototype (and every other server) is left alone. */
  private shadowClose(server: ClosableServer): void {
    const original = server.close;
    const graceful = (callback?: CloseCallback): ClosableServer => {
      if (!cluster.worker?.exitedAfterDisconnect) return original.call(server, callback) as ClosableServer;
      this.beginRetiring();
      // Stop accepting; the callback runs once every connection has ended.
      NetServer.prototype.close.call(server, callback);
      for (const socket of this.sockets.get(server) ?? []) {
        const inFlight = socket._httpMessage;
        if (inFlight && !inFlight.headersSent) inFlight.shouldKeepAlive = false;
      }
      setTimeout(() => server.closeIdleConnections(), IDLE_CLOSE_DELAY_MS).unref();
      return server;
    };
    Object.defineProperty(server, 'close', { value: graceful, configurable: true, writable: true });
  }

  private beginRetiring(): void {
    if (this.retiring) return;
    this.retiring = true;
    diagnosticsChannel.subscribe(REQUEST_START_CHANNEL, this.onRequest);
  }

  private readonly onRequest = (message: unknown): void => {
    const response = (message as { response?: ServerResponse }).response;
    if (response && !response.headersSent) response.shouldKeepAlive = false;
  };
}
