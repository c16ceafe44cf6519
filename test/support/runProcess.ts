/**
 * `otel-cluster-exporter run` as a real process tree: the master (the CLI)
 * and its workers, in their own process group so a test can always clean up.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'node:http';
import { APPS, CLI, freePort, httpRequest, sleep, stopGroup, waitFor } from './processes';
import { CHILD_ENV } from './childEnv';

/** A running master. */
export interface RunningMaster {
  readonly child: ChildProcess;
  readonly appPort: number;
  readonly metricsPort: number;
  stderr(): string;
  /** Resolves with the master's exit status (or signal name). */
  readonly exited: Promise<number | string>;
  signal(name: NodeJS.Signals): void;
  stop(): Promise<void>;
}

/** Start `run [args] plain-app.js` and wait until the app answers and /metrics serves (unless `waitReady` is false). */
export async function startRun(args: readonly string[], env: Record<string, string> = {}, options: { app?: string; waitReady?: boolean } = {}): Promise<RunningMaster> {
  const appPort = await freePort();
  const metricsPort = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'ocx-run-'));
  let stderr = '';
  const child = spawn(process.execPath, [CLI, 'run', ...args, join(APPS, options.app ?? 'plain-app.js')], {
    env: {
      ...CHILD_ENV,
      HOME: process.env.HOME ?? '',
      PORT: String(appPort),
      PROMETHEUS_METRICS_PORT: String(metricsPort),
      PROMETHEUS_BIND_ADDRESS: '127.0.0.1',
      PROMETHEUS_MULTIPROC_DIR: storeDir,
      OTEL_CLUSTER_EXPORTER_QUIET: 'true',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const master: RunningMaster = {
    child,
    appPort,
    metricsPort,
    stderr: () => stderr,
    exited,
    signal: (name) => child.kill(name),
    stop: async () => {
      await stopGroup(child);
      rmSync(storeDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    },
  };
  if (options.waitReady === false) return master;
  try {
    await waitFor(`the app on ${appPort}`, async () => ((await httpRequest(appPort, '/')).status === 200 ? true : undefined));
    await waitFor(`metrics on ${metricsPort}`, async () => ((await httpRequest(metricsPort, '/metrics')).status === 200 ? true : undefined));
  } catch (error) {
    await master.stop();
    throw new Error(`${String(error)}\nmaster stderr:\n${stderr}`);
  }
  return master;
}

/** The outcome of a load run. */
export interface LoadResult {
  readonly ok: number;
  readonly failed: number;
  /** The first few failures, for the assertion message. */
  readonly failures: string[];
}

/** Options of {@link keepAliveLoad}. */
export interface LoadOptions {
  /** Requests to send at least. */
  readonly count: number;
  /** Keep-alive connections, one request in flight on each. */
  readonly lanes?: number;
  /** Sees the number answered so far, to time a signal in the middle of the load. */
  readonly onProgress?: (done: number) => void;
  /** Go on past `count` while this says so (until `maxCount`): load that lasts until a reload is done. */
  readonly keepGoing?: () => boolean;
  readonly maxCount?: number;
}

/**
 * GETs over keep-alive connections, the next sent on a connection as soon as
 * the previous answered; bounded by `maxCount` (default `count`).
 */
export async function keepAliveLoad(port: number, path: string, options: LoadOptions): Promise<LoadResult & { readonly sent: number }> {
  const { count, lanes = 8, onProgress, keepGoing, maxCount = count } = options;
  const agent = new Agent({ keepAlive: true, maxSockets: lanes });
  let started = 0;
  let ok = 0;
  let failed = 0;
  const failures: string[] = [];
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) ok++;
          else {
            failed++;
            if (failures.length < 5) failures.push(`status ${res.statusCode ?? '?'}`);
          }
          resolve();
        });
        res.on('error', (error) => {
          failed++;
          if (failures.length < 5) failures.push(String(error));
          resolve();
        });
      });
      req.on('error', (error) => {
        failed++;
        if (failures.length < 5) failures.push(String(error));
        resolve();
      });
      req.end();
    });
  const lane = async (): Promise<void> => {
    while (started < maxCount && (started < count || keepGoing?.() === true)) {
      started++;
      await one();
      onProgress?.(ok + failed);
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  agent.destroy();
  return { ok, failed, failures, sent: started };
}

/** One GET over a keep-alive connection: the response headers a keep-alive client sees. */
export function keepAliveGet(port: number, path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  const agent = new Agent({ keepAlive: true });
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume();
      res.on('end', () => {
        agent.destroy();
        resolve({ status: res.statusCode ?? 0, headers: res.headers });
      });
    })
      .on('error', reject)
      .end();
  });
}

/** Wait until `pid` is gone; resolves with the time it took, ms. */
export async function waitGone(pid: number, timeoutMs = 15000): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    try {
      process.kill(pid, 0);
    } catch {
      return Date.now() - start;
    }
    await sleep(20);
  }
  throw new Error(`pid ${pid} still alive after ${timeoutMs} ms`);
}
