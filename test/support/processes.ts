/**
 * Real processes for end-to-end tests: start an app under the preload, talk
 * to it over HTTP, scrape its metrics, and always clean up.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { CHILD_ENV } from './childEnv';

export const ROOT = resolve(__dirname, '..', '..', '..');
export const REGISTER = join(ROOT, 'dist', 'register.js');
export const CLI = join(ROOT, 'dist', 'cli', 'main.js');
export const APPS = join(ROOT, 'test', 'support', 'apps');

/** A free loopback port (the OS picks; released before returning). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((ok) => server.close(() => ok()));
  return port;
}

/**
 * Take a host-wide lock: a listening socket on the loopback port `lockPort`, for tests that need a
 * fixed resource (the default metrics port) or must not overlap a twin (PM2's start-up) while
 * another suite runs on the same host (CI runs the Node 20 and Node 24 suites side by side).
 * Resolves with the release. The kernel frees the port when the holder exits, however it exits,
 * so a crashed run leaves no stale lock behind.
 */
export async function acquireHostLock(lockPort: number, timeoutMs = 120_000): Promise<() => Promise<void>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const candidate = createServer();
    const taken = await new Promise<boolean>((ok) => {
      candidate.once('error', () => ok(false));
      candidate.listen({ port: lockPort, host: '127.0.0.1', exclusive: true }, () => ok(true));
    });
    if (taken) return () => new Promise<void>((ok) => candidate.close(() => ok()));
    if (Date.now() > deadline) throw new Error(`host lock on 127.0.0.1:${lockPort} still held after ${timeoutMs} ms`);
    await sleep(200);
  }
}

/** Run `work` while holding the host-wide lock on `lockPort` (see {@link acquireHostLock}). */
export async function withHostLock<T>(lockPort: number, work: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
  const release = await acquireHostLock(lockPort, timeoutMs);
  try {
    return await work();
  } finally {
    await release();
  }
}

/**
 * Poll `check` until it returns a value other than undefined, or fail after `timeoutMs`. A check
 * that never settles (a request the server holds, an IPC reply that never comes) is bounded by the
 * same deadline, so a hang fails the test with its name instead of stalling the whole run.
 */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 15000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await withinDeadline(Promise.resolve(check()), deadline - Date.now(), what);
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}

/** `pending`, or a rejection naming `what` once `ms` have passed without it settling. */
function withinDeadline<T>(pending: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_ok, fail) => {
    timer = setTimeout(() => fail(new Error(`${what}: no answer within ${Math.round(ms)} ms`)), Math.max(0, ms));
  });
  return Promise.race([pending, expired]).finally(() => clearTimeout(timer));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((ok) => setTimeout(ok, ms));
}

/** How long a test request may go unanswered: far beyond any answer the suite expects, well below a hung run. */
export const REQUEST_TIMEOUT_MS = 20_000;

/** A plain HTTP GET/POST with a body; resolves with status and body text, rejects when unanswered after `timeoutMs`. */
export function httpRequest(
  port: number,
  path: string,
  options: { method?: string; body?: string | Buffer; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((ok, fail) => {
    const method = options.method ?? 'GET';
    const req = request({ host: '127.0.0.1', port, path, method, headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => ok({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      res.on('error', fail);
    });
    const timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS;
    const timer = setTimeout(() => req.destroy(new Error(`${method} 127.0.0.1:${port}${path}: no response within ${timeoutMs} ms`)), timeoutMs);
    req.on('close', () => clearTimeout(timer));
    req.on('error', fail);
    req.end(options.body);
  });
}

/** A started app and the means to stop it. */
export interface RunningApp {
  readonly child: ChildProcess;
  readonly appPort: number;
  readonly metricsPort: number;
  readonly storeDir: string;
  /** Everything the app wrote to stderr so far. */
  stderr(): string;
  /** Ask the cluster app's primary for its workers' pids. */
  workerPids(): Promise<number[]>;
  stop(): Promise<void>;
}

/** Start `app` (a file in test/support/apps, or an absolute path) with the preload, and wait until it serves and exports. */
export async function startApp(
  app: string,
  env: Record<string, string> = {},
  options: {
    loader?: '--require' | '--import';
    expectedListeners?: number;
    /** Preloaded after this package's, as an app's own `--require` (a tracing setup). */
    alsoRequire?: string;
    /** Where the metrics are served (default `/metrics`) and the headers a scrape needs (credentials). */
    metricsPath?: string;
    metricsHeaders?: Record<string, string>;
  } = {},
): Promise<RunningApp> {
  const appPort = await freePort();
  const metricsPort = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'ocx-e2e-'));
  let stderr = '';
  const child = fork(isAbsolute(app) ? app : join(APPS, app), [], {
    execArgv: [options.loader ?? '--require', REGISTER, ...(options.alsoRequire !== undefined ? ['--require', options.alsoRequire] : [])],
    env: {
      ...CHILD_ENV,
      HOME: process.env.HOME ?? '',
      APP_PORT: String(appPort),
      PORT: String(appPort),
      PROMETHEUS_METRICS_PORT: String(metricsPort),
      PROMETHEUS_BIND_ADDRESS: '127.0.0.1',
      PROMETHEUS_MULTIPROC_DIR: storeDir,
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    // Its own process group, so stop() can end the primary and every worker together.
    detached: true,
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const running: RunningApp = {
    child,
    appPort,
    metricsPort,
    storeDir,
    stderr: () => stderr,
    workerPids: () =>
      new Promise<number[]>((ok, fail) => {
        const onMessage = (message: unknown): void => {
          const m = message as { type?: string; pids?: number[] };
          if (m.type === 'pids' && m.pids) {
            child.off('message', onMessage);
            clearTimeout(timer);
            ok(m.pids);
          }
        };
        const timer = setTimeout(() => {
          child.off('message', onMessage);
          fail(new Error(`the primary did not list its workers within ${REQUEST_TIMEOUT_MS} ms`));
        }, REQUEST_TIMEOUT_MS);
        child.on('message', onMessage);
        child.send('pids');
      }),
    stop: async () => {
      await stopGroup(child);
      rmSync(storeDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    },
  };
  try {
    await waitFor(`app ${app} to answer on ${appPort}`, async () => ((await httpRequest(appPort, '/')).status === 200 ? true : undefined));
    const metricsPath = options.metricsPath ?? '/metrics';
    const headers = options.metricsHeaders ?? {};
    await waitFor(`metrics on ${metricsPort}`, async () => ((await httpRequest(metricsPort, metricsPath, { headers })).status === 200 ? true : undefined));
  } catch (error) {
    await running.stop();
    throw new Error(`${String(error)}\napp stderr:\n${stderr}`);
  }
  return running;
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM a detached child's process group, SIGKILL it after 5 s, and wait until every member is gone. */
export async function stopGroup(child: ChildProcess): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    return; // already gone
  }
  const deadline = Date.now() + 5000;
  while (groupAlive(pid) && Date.now() < deadline) await sleep(50);
  if (groupAlive(pid)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone in between
    }
    while (groupAlive(pid)) await sleep(50);
  }
}

/** Scrape /metrics and parse it. */
export async function scrape(port: number): Promise<Exposition> {
  const response = await httpRequest(port, '/metrics');
  if (response.status !== 200) throw new Error(`scrape answered ${response.status}: ${response.body}`);
  return parseExposition(response.body);
}

/** One sample of a scrape. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A parsed exposition with lookups by name and labels. */
export interface Exposition {
  readonly text: string;
  readonly samples: readonly Sample[];
  /** Samples of `name` whose labels include every given label. */
  find(name: string, labels?: Record<string, string>): Sample[];
  /** Sum of the values of {@link find}. */
  sum(name: string, labels?: Record<string, string>): number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL_PAIR = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/gy;

/**
 * A strict parser of the text format: every line must be a comment, blank, or
 * a well-formed sample, or it throws naming the line.
 */
export function parseExposition(text: string): Exposition {
  const samples: Sample[] = [];
  text.split('\n').forEach((line, index) => {
    if (line === '' || line.startsWith('#')) return;
    const match = SAMPLE_LINE.exec(line);
    if (!match) throw new Error(`line ${index + 1} is not a sample: ${line}`);
    const [, name = '', labelText = '', valueText = ''] = match;
    const labels: Record<string, string> = {};
    LABEL_PAIR.lastIndex = 0;
    let consumed = 0;
    let pair: RegExpExecArray | null;
    while (consumed < labelText.length && (pair = LABEL_PAIR.exec(labelText)) !== null) {
      labels[pair[1] ?? ''] = (pair[2] ?? '').replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
      consumed = LABEL_PAIR.lastIndex;
    }
    if (consumed !== labelText.length) throw new Error(`line ${index + 1} has malformed labels: ${line}`);
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText);
    if (Number.isNaN(value) && valueText !== 'NaN') throw new Error(`line ${index + 1} has a bad value: ${line}`);
    samples.push({ name, labels, value });
  });
  const find = (name: string, labels: Record<string, string> = {}): Sample[] =>
    samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return { text, samples, find, sum: (name, labels) => find(name, labels).reduce((total, s) => total + s.value, 0) };
}

/** Send `count` requests to `path`, `concurrency` at a time; returns how many answered with each status. */
export async function load(port: number, path: string, count: number, concurrency = 8): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      next++;
      const { status } = await httpRequest(port, path);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return statuses;
}
