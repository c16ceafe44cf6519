/**
 * `otel-cluster-exporter serve` as a real child process (a sidecar), and the
 * small Redis helpers the end-to-end tests share: a unique key prefix and a
 * prefix cleaner. Everything started here is stopped by the caller's after hooks.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { CLI, freePort, httpRequest, waitFor } from './processes';
import { CHILD_ENV } from './childEnv';

/** A running `serve` process. */
export interface RunningServe {
  readonly child: ChildProcess;
  readonly port: number;
  /** Everything serve wrote to stderr so far. */
  stderr(): string;
  stop(): Promise<void>;
}

/**
 * Start `node dist/cli/main.js serve` on a free port with `env` (plus PATH),
 * and wait until its endpoint answers.
 */
export async function startServe(
  env: Record<string, string>,
  args: readonly string[] = [],
  /** Where serve answers and what a scrape must send (a web configuration's credentials). */
  ready: { metricsPath?: string; headers?: Record<string, string> } = {},
): Promise<RunningServe> {
  const port = await freePort();
  let stderr = '';
  const child = spawn(process.execPath, [CLI, 'serve', ...args], {
    env: {
      ...CHILD_ENV,
      PROMETHEUS_METRICS_PORT: String(port),
      PROMETHEUS_BIND_ADDRESS: '127.0.0.1',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const running: RunningServe = {
    child,
    port,
    stderr: () => stderr,
    stop: () => stopChild(child),
  };
  try {
    await waitFor(`serve to answer on ${port}`, async () => {
      if (child.exitCode !== null) throw new Error(`serve exited with ${child.exitCode}`);
      return (await httpRequest(port, ready.metricsPath ?? '/metrics', { headers: ready.headers ?? {} })).status === 200 ? true : undefined;
    });
  } catch (error) {
    await running.stop();
    throw new Error(`${String(error)}\nserve stderr:\n${stderr}`);
  }
  return running;
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the child has exited. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((ok) => child.once('exit', ok));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** A key prefix unique to this run; contains ':' on purpose (a prefix may). */
export function e2ePrefix(label: string): string {
  return `ocx-e2e:${label}:${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** Count the keys under `prefix` (SCAN, never KEYS). */
export async function countPrefix(port: number, prefix: string): Promise<number> {
  let count = 0;
  await scanPrefix(port, prefix, async (_client, keys) => {
    count += keys.length;
  });
  return count;
}

/** Delete every key under `prefix` (SCAN, never KEYS). */
export async function deletePrefix(port: number, prefix: string): Promise<void> {
  await scanPrefix(port, prefix, async (client, keys) => {
    await client.del(...keys);
  });
}

async function scanPrefix(port: number, prefix: string, each: (client: Redis, keys: string[]) => Promise<void>): Promise<void> {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await client.connect();
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${escapeGlob(prefix)}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await each(client, keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

/** SCAN MATCH reads `*?[]\` as pattern characters. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
