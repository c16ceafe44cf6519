import type { ReceivedResource } from './ReceivedMetrics';

/** One export request as a loopback receiver got it. */
export interface ReceivedExport {
  readonly protocol: 'http/json' | 'http/protobuf' | 'grpc';
  /** HTTP path, or the gRPC method path. */
  readonly path: string;
  /** Request headers (gRPC: metadata), lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * Whether the body arrived gzip-compressed; undefined where the transport
   * hides it (grpc-js decompresses and strips `grpc-encoding` before the
   * handler runs).
   */
  readonly compressed: boolean | undefined;
  readonly resources: readonly ReceivedResource[];
}

/** How a receiver answers: accept, never answer, or fail with an HTTP status. */
export type ReceiverMode = 'accept' | 'hang' | { readonly status: number };

/**
 * What a receiver saw: the decoded exports it accepted, and how many requests
 * were open at once (the measure of whether the sender queues).
 */
export class ExportRecorder {
  readonly exports: ReceivedExport[] = [];
  /** Every request that arrived, answered or not. */
  requests = 0;
  openRequests = 0;
  maxOpenRequests = 0;
  mode: ReceiverMode = 'accept';
  private waiters: { count: number; resolve: () => void }[] = [];

  /** Note a request arriving; returns the call that marks it finished. */
  opened(): () => void {
    this.requests += 1;
    this.openRequests += 1;
    this.maxOpenRequests = Math.max(this.maxOpenRequests, this.openRequests);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.openRequests -= 1;
    };
  }

  record(received: ReceivedExport): void {
    this.exports.push(received);
    this.waiters = this.waiters.filter((waiter) => {
      if (this.exports.length < waiter.count) return true;
      waiter.resolve();
      return false;
    });
  }

  /** Resolves once `count` exports were accepted; rejects after `timeoutMs`. */
  waitForExports(count: number, timeoutMs = 10_000): Promise<ReceivedExport[]> {
    if (this.exports.length >= count) return Promise.resolve(this.exports.slice());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter.resolve !== onDone);
        reject(new Error(`receiver got ${this.exports.length} export(s) within ${timeoutMs} ms, expected ${count}`));
      }, timeoutMs);
      const onDone = (): void => {
        clearTimeout(timer);
        resolve(this.exports.slice());
      };
      this.waiters.push({ count, resolve: onDone });
    });
  }
}
