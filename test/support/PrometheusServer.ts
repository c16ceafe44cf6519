/**
 * A real Prometheus (Debian's `prometheus` package) for tests: scrapes given
 * targets every second from a private data directory on a free loopback port.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, sleep } from './processes';

export const PROMETHEUS_BINARY = '/usr/bin/prometheus';

/** Why a test that needs Prometheus cannot run here, or false when it can (CI installs it, so CI never skips). */
export function prometheusUnavailable(): string | false {
  if (existsSync(PROMETHEUS_BINARY) || process.env.CI === 'true') return false;
  return `prometheus is not installed at ${PROMETHEUS_BINARY} (apt-get install prometheus)`;
}

/** One instant-vector sample of a query result. */
export interface PromSample {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

export class PrometheusServer {
  private log = '';
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly apiBase: string,
  ) {
    child.stderr?.on('data', (chunk: Buffer) => (this.log = (this.log + chunk.toString()).slice(-4000)));
  }

  /**
   * Start scraping `targets` (host:port) every second. `scrapeConfig` adds
   * YAML lines to the job (`basic_auth: {...}`, `metrics_path: /m`); `flags`
   * are extra command-line flags (`--enable-feature=exemplar-storage`).
   */
  static async start(targets: readonly string[], options: { scrapeConfig?: readonly string[]; flags?: readonly string[] } = {}): Promise<PrometheusServer> {
    const dir = mkdtempSync(join(tmpdir(), 'ocx-prometheus-'));
    const webPort = await freePort();
    const config = join(dir, 'prometheus.yml');
    writeFileSync(
      config,
      [
        'global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}',
        'scrape_configs:',
        '  - job_name: app',
        `    static_configs: [{targets: [${targets.map((t) => `'${t}'`).join(', ')}]}]`,
        ...(options.scrapeConfig ?? []).map((line) => `    ${line}`),
        '',
      ].join('\n'),
    );
    const child = spawn(
      PROMETHEUS_BINARY,
      [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${webPort}`, ...(options.flags ?? [])],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    return new PrometheusServer(child, dir, `http://127.0.0.1:${webPort}`);
  }

  /** GET a Prometheus HTTP API path (`/api/v1/...`) and return its `data`. */
  async api<T>(path: string): Promise<T> {
    const response = await fetch(`${this.apiBase}${path}`);
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`${path}: ${body.error ?? body.status}`);
    return body.data;
  }

  /** Run an instant query. */
  async query(expression: string): Promise<PromSample[]> {
    return (await this.api<{ result: PromSample[] }>(`/api/v1/query?query=${encodeURIComponent(expression)}`)).result;
  }

  /** Poll `probe` until it returns a value, failing with Prometheus' own log if it never does. */
  async until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`prometheus exited (${this.child.exitCode}):\n${this.log}`);
      try {
        const value = await probe();
        if (value !== undefined) return value;
      } catch (error) {
        lastError = error; // not listening yet, or no data yet
      }
      await sleep(250);
    }
    throw new Error(`timed out waiting for ${what} (last error: ${String(lastError)})\nprometheus log:\n${this.log}`);
  }

  /** Poll a query until it returns at least one sample. */
  eventually(expression: string, timeoutMs = 20000): Promise<PromSample[]> {
    return this.until(`data for ${expression}`, async () => {
      const result = await this.query(expression);
      return result.length > 0 ? result : undefined;
    }, timeoutMs);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((ok) => this.child.once('exit', ok));
      this.child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
