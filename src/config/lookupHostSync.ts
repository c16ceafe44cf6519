/**
 * A synchronous DNS lookup, for the one startup check that needs it (a bind
 * address given as a host name): the configuration is loaded synchronously,
 * before the app runs, and Node has no synchronous resolver. The lookup runs
 * in a short-lived worker thread while this thread waits on a shared flag,
 * bounded by a timeout.
 */
import { Worker } from 'node:worker_threads';

/** What {@link lookupHostSync} found. */
export type HostLookup =
  { readonly kind: 'resolved'; readonly addresses: readonly string[] } | { readonly kind: 'failed'; readonly reason: string } | { readonly kind: 'timed-out' };

/** Room for the answer: a host's addresses as JSON, far more than a real host has. */
const ANSWER_BYTES = 8192;

// Plain JavaScript, evaluated in the thread: [0] = answer length once written, or -1 when it did not fit.
const LOOKUP_THREAD = `
const { workerData } = require('node:worker_threads');
const { host, flag, answer } = workerData;
const finish = (value) => {
  const bytes = Buffer.from(JSON.stringify(value));
  const fits = bytes.length <= answer.length;
  if (fits) answer.set(bytes);
  Atomics.store(flag, 0, fits ? bytes.length : -1);
  Atomics.notify(flag, 0);
};
require('node:dns').lookup(host, { all: true }, (error, found) =>
  finish(error ? { reason: error.code || error.message } : { addresses: found.map((entry) => entry.address) }));
`;

/**
 * Resolves `host` as `net.Server#listen` would (`dns.lookup`, the system
 * resolver, in its order), waiting at most `timeoutMs`.
 */
export function lookupHostSync(host: string, timeoutMs: number): HostLookup {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const answer = new Uint8Array(new SharedArrayBuffer(ANSWER_BYTES));
  const thread = new Worker(LOOKUP_THREAD, { eval: true, workerData: { host, flag, answer }, stdout: true, stderr: true });
  thread.unref();
  try {
    if (Atomics.wait(flag, 0, 0, timeoutMs) === 'timed-out') return { kind: 'timed-out' };
    const length = Atomics.load(flag, 0);
    if (length < 0) return { kind: 'failed', reason: 'an answer too large to read' };
    const parsed = JSON.parse(Buffer.from(answer.subarray(0, length)).toString('utf8')) as { reason?: string; addresses?: string[] };
    return parsed.addresses !== undefined ? { kind: 'resolved', addresses: parsed.addresses } : { kind: 'failed', reason: parsed.reason ?? 'unknown error' };
  } finally {
    void thread.terminate();
  }
}
