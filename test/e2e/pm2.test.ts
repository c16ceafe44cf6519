/**
 * End to end with real PM2 (from npm, its own PM2_HOME): the example's app
 * entry with a bad configuration exits 78 before serving, PM2 stops it instead
 * of restart-looping (stop_exit_codes: [78]), and the message is in the app's
 * own PM2 error log, which `pm2 logs <app>` shows.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CATALOGUE, prometheusName } from '../../src/catalogue/MetricCatalogue';
import { CLI, ROOT, acquireHostLock, freePort, httpRequest, scrape, sleep, waitFor, type Exposition } from '../support/processes';

const run = promisify(execFile);
const PM2 = join(ROOT, 'node_modules', 'pm2', 'bin', 'pm2');
const EXAMPLE = join(ROOT, 'examples', 'pm2');
const REQUESTS = prometheusName(CATALOGUE.requests);

interface Pm2Process {
  name: string;
  pid: number;
  pm2_env: { NODE_APP_INSTANCE?: number; status: string; restart_time: number; exit_code?: number; pm_err_log_path: string; stop_exit_codes?: number[] };
}

/**
 * Held for the whole file: a PM2 daemon with its cluster instances and a sidecar is the heaviest
 * start-up of the suite, and CI's other suite (the other Node) runs this file at about the same time.
 */
const PM2_LOCK = 19092;

let home: string;
let releaseLock: (() => Promise<void>) | undefined;
const pm2 = (...args: string[]) => run(process.execPath, [PM2, ...args], { env: { ...process.env, PM2_HOME: home }, timeout: 60000 });

before(async () => {
  releaseLock = await acquireHostLock(PM2_LOCK, 300_000);
  home = mkdtempSync(join(tmpdir(), 'ocx-pm2-'));
});
after(async () => {
  await pm2('kill').catch(() => undefined);
  rmSync(home, { recursive: true, force: true });
  await releaseLock?.();
});

test('a bad configuration under PM2 cluster mode: stopped after one start, exit 78, the message in pm2 logs of the app', async () => {
  const ecosystem = require(join(EXAMPLE, 'ecosystem.config.js')) as { apps: (Record<string, unknown> & { name: string; env: Record<string, string> })[] };
  const web = ecosystem.apps.find((app) => app.name === 'web');
  assert.ok(web, 'the example has its web app');
  assert.deepEqual(web.stop_exit_codes, [78]);
  const storeDir = mkdtempSync(join(tmpdir(), 'ocx-pm2-store-'));
  const config = join(home, 'ecosystem.config.js');
  const app = {
    ...web,
    cwd: EXAMPLE,
    instances: 1,
    // The package as installed is this repository (its name resolves to itself from examples/).
    env: { ...web.env, PORT: String(await freePort()), PROMETHEUS_MULTIPROC_DIR: storeDir, OTEL_CLUSTER_EXPORTER_MAX_ENDPOINTS: 'lots' },
  };
  writeFileSync(config, `module.exports = ${JSON.stringify({ apps: [app] })};\n`);
  try {
    await pm2('start', config);
    const list = await waitFor(
      'PM2 to settle the app',
      async () => {
        const processes = JSON.parse((await pm2('jlist')).stdout) as Pm2Process[];
        const one = processes.find((p) => p.name === 'web');
        return one && one.pm2_env.status !== 'online' && one.pm2_env.status !== 'launching' ? one : undefined;
      },
      30000,
    );
    // Give a restart loop the chance to show itself.
    await sleep(1500);
    const settled = (JSON.parse((await pm2('jlist')).stdout) as Pm2Process[]).find((p) => p.name === 'web')!;
    assert.equal(list.pm2_env.status, 'stopped');
    assert.equal(settled.pm2_env.status, 'stopped');
    assert.equal(settled.pm2_env.restart_time, 0, 'no restart loop');
    assert.equal(settled.pm2_env.exit_code, 78);
    const errorLog = settled.pm2_env.pm_err_log_path;
    assert.ok(existsSync(errorLog), errorLog);
    assert.match(readFileSync(errorLog, 'utf8'), /invalid configuration: .*OTEL_CLUSTER_EXPORTER_MAX_ENDPOINTS/);
    const logs = await pm2('logs', 'web', '--nostream', '--lines', '20');
    assert.match(logs.stdout, /invalid configuration: .*OTEL_CLUSTER_EXPORTER_MAX_ENDPOINTS/);
  } finally {
    await pm2('delete', 'all').catch(() => undefined);
    rmSync(storeDir, { recursive: true, force: true });
  }
});

test('PM2 cluster mode, 2 instances and serve: kill -9 of one is one restart (unknown), SIGTERM of the other one restart (sigterm), workers and states from live leases', async () => {
  const ecosystem = require(join(EXAMPLE, 'ecosystem.config.js')) as { apps: (Record<string, unknown> & { name: string; env: Record<string, string> })[] };
  const [web, metrics] = ['web', 'web-metrics'].map((name) => ecosystem.apps.find((app) => app.name === name));
  assert.ok(web && metrics, 'the example has its web and web-metrics apps');
  const storeDir = mkdtempSync(join(tmpdir(), 'ocx-pm2-store-'));
  const metricsPort = await freePort();
  const config = join(home, 'ecosystem.config.js');
  const apps = [
    { ...web, cwd: EXAMPLE, instances: 2, env: { ...web.env, PORT: String(await freePort()), PROMETHEUS_MULTIPROC_DIR: storeDir, OTEL_CLUSTER_EXPORTER_FLUSH_INTERVAL_MS: '200' } },
    {
      ...metrics,
      cwd: EXAMPLE,
      script: CLI,
      env: { ...metrics.env, PROMETHEUS_MULTIPROC_DIR: storeDir, PROMETHEUS_METRICS_PORT: String(metricsPort), PROMETHEUS_BIND_ADDRESS: '127.0.0.1' },
    },
  ];
  writeFileSync(config, `module.exports = ${JSON.stringify({ apps })};\n`);
  const restarts = async (slot: string) => (await scrape(metricsPort)).sum('gunicorn_worker_restart_total', { worker_id: slot });
  try {
    await pm2('start', config);
    const before = await waitFor(
      'serve to see both instances',
      async () => {
        const exposition = await scrape(metricsPort);
        return exposition.sum('gunicorn_workers') === 2 ? exposition : undefined;
      },
      60000,
    );
    assert.equal(before.find('gunicorn_worker_restart_total').length, 0, 'no restart before any');
    for (const slot of ['0', '1']) assert.equal(before.sum('gunicorn_worker_state', { worker_id: slot, state: 'running' }), 1);

    const processes = JSON.parse((await pm2('jlist')).stdout) as Pm2Process[];
    const victim = processes.find((p) => p.name === 'web' && p.pm2_env.NODE_APP_INSTANCE === 1);
    assert.ok(victim, 'PM2 runs instance 1');
    process.kill(victim.pid, 'SIGKILL');
    await waitFor(
      'PM2 to restart instance 1',
      async () => {
        const list = JSON.parse((await pm2('jlist')).stdout) as Pm2Process[];
        const one = list.find((p) => p.name === 'web' && p.pm2_env.NODE_APP_INSTANCE === 1);
        return one && one.pid !== victim.pid && one.pm2_env.status === 'online' ? one : undefined;
      },
      20000,
    );
    const after = await waitFor(
      'serve to count the restart',
      async () => {
        const exposition = await scrape(metricsPort);
        return exposition.sum('gunicorn_worker_restart_total', { worker_id: '1' }) > 0 ? exposition : undefined;
      },
      20000,
    );
    assert.deepEqual(
      after.find('gunicorn_worker_restart_total').map((s) => s.labels),
      [{ worker_id: '1', reason: 'unknown' }],
    );
    assert.equal(after.sum('gunicorn_worker_restart_total'), 1);
    assert.equal(after.sum('gunicorn_workers'), 2, 'the new life replaces the killed one');
    // Past the killed life's lease (5 s) and the reaper's fold into its slot: still one, never lower.
    const deadline = Date.now() + 7000;
    while (Date.now() < deadline) {
      assert.equal(await restarts('1'), 1);
      await sleep(250);
    }
    const settled = await scrape(metricsPort);
    assert.equal(settled.sum('gunicorn_worker_restart_total', { worker_id: '0' }), 0);
    assert.equal(settled.sum('gunicorn_workers'), 2);
    assert.equal(settled.sum('gunicorn_worker_state', { worker_id: '1', state: 'running' }), 1);

    // An exit the process sees itself (SIGTERM) is written with its last snapshot: the restart has its reason.
    const other = processes.find((p) => p.name === 'web' && p.pm2_env.NODE_APP_INSTANCE === 0);
    assert.ok(other, 'PM2 runs instance 0');
    process.kill(other.pid, 'SIGTERM');
    const terminated = await waitFor(
      'serve to count the restart of instance 0',
      async () => {
        const exposition = await scrape(metricsPort);
        return exposition.sum('gunicorn_worker_restart_total', { worker_id: '0' }) > 0 ? exposition : undefined;
      },
      20000,
    );
    assert.deepEqual(
      terminated.find('gunicorn_worker_restart_total', { worker_id: '0' }).map((s) => [s.labels.reason, s.value]),
      [['sigterm', 1]],
    );
    assert.equal(terminated.sum('gunicorn_worker_restart_total', { worker_id: '1' }), 1, 'the earlier restart stays counted once');
  } finally {
    await pm2('delete', 'all').catch(() => undefined);
    rmSync(storeDir, { recursive: true, force: true });
  }
});

test('pm2 reload of 2 instances under serve: each slot one restart with its reason, 2 workers throughout, every counted request kept', async () => {
  const ecosystem = require(join(EXAMPLE, 'ecosystem.config.js')) as { apps: (Record<string, unknown> & { name: string; env: Record<string, string> })[] };
  const [web, metrics] = ['web', 'web-metrics'].map((name) => ecosystem.apps.find((app) => app.name === name));
  assert.ok(web && metrics, 'the example has its web and web-metrics apps');
  const storeDir = mkdtempSync(join(tmpdir(), 'ocx-pm2-store-'));
  const metricsPort = await freePort();
  const appPort = await freePort();
  const config = join(home, 'ecosystem.config.js');
  const apps = [
    { ...web, cwd: EXAMPLE, instances: 2, env: { ...web.env, PORT: String(appPort), PROMETHEUS_MULTIPROC_DIR: storeDir, OTEL_CLUSTER_EXPORTER_FLUSH_INTERVAL_MS: '200' } },
    {
      ...metrics,
      cwd: EXAMPLE,
      script: CLI,
      env: { ...metrics.env, PROMETHEUS_MULTIPROC_DIR: storeDir, PROMETHEUS_METRICS_PORT: String(metricsPort), PROMETHEUS_BIND_ADDRESS: '127.0.0.1' },
    },
  ];
  writeFileSync(config, `module.exports = ${JSON.stringify({ apps })};\n`);
  const served = (exposition: Exposition) => exposition.sum(REQUESTS, { endpoint: '/users/:id', status: '200' });
  const webProcesses = async () => (JSON.parse((await pm2('jlist')).stdout) as Pm2Process[]).filter((p) => p.name === 'web');
  try {
    await pm2('start', config);
    await waitFor('serve to see both instances', async () => ((await scrape(metricsPort)).sum('gunicorn_workers') === 2 ? true : undefined), 60000);
    const lives = await webProcesses();
    assert.equal(lives.length, 2);
    for (let i = 0; i < 20; i++) assert.equal((await httpRequest(appPort, `/users/${i}`)).status, 200);
    await waitFor('serve to count the 20 requests', async () => (served(await scrape(metricsPort)) === 20 ? true : undefined), 20000);

    // The gauges are sampled all through the reload: a slot whose old and new lives overlap is one worker.
    let sampling = true;
    const workersSeen = new Set<number>();
    const sampler = (async () => {
      while (sampling) {
        const exposition = await scrape(metricsPort);
        workersSeen.add(exposition.sum('gunicorn_workers'));
        assert.ok(served(exposition) >= 20, 'no counted request goes missing while the old lives are folded');
        await sleep(100);
      }
    })();
    try {
      await pm2('reload', 'web');
      await waitFor(
        'PM2 to replace both instances',
        async () => {
          const now = await webProcesses();
          return now.length === 2 && now.every((p) => p.pm2_env.status === 'online' && !lives.some((old) => old.pid === p.pid)) ? now : undefined;
        },
        30000,
      );
      const reloaded = await waitFor(
        'serve to count both restarts',
        async () => {
          const exposition = await scrape(metricsPort);
          return exposition.sum('gunicorn_worker_restart_total') >= 2 ? exposition : undefined;
        },
        20000,
      );
      // PM2 stops the old life of a slot with SIGINT once its replacement is online: that exit is the reason.
      assert.deepEqual(
        reloaded
          .find('gunicorn_worker_restart_total')
          .map((s) => [s.labels.worker_id, s.labels.reason, s.value])
          .sort(),
        [
          ['0', 'sigint', 1],
          ['1', 'sigint', 1],
        ],
      );
      // Past the old lives' leases (5 s) and the reaper's fold: counts and workers hold.
      const deadline = Date.now() + 7000;
      while (Date.now() < deadline) {
        const exposition = await scrape(metricsPort);
        assert.equal(exposition.sum('gunicorn_worker_restart_total'), 2);
        await sleep(250);
      }
    } finally {
      sampling = false;
      await sampler;
    }
    assert.deepEqual([...workersSeen], [2], 'gunicorn_workers is 2 before, during and after the reload');
    const settled = await scrape(metricsPort);
    for (const slot of ['0', '1']) assert.equal(settled.sum('gunicorn_worker_state', { worker_id: slot, state: 'running' }), 1);
    assert.equal(served(settled), 20, 'the old lives’ requests stay counted once');
    for (let i = 0; i < 10; i++) assert.equal((await httpRequest(appPort, `/users/${i}`)).status, 200);
    await waitFor('serve to count the new lives’ requests', async () => (served(await scrape(metricsPort)) === 30 ? true : undefined), 20000);
  } finally {
    await pm2('delete', 'all').catch(() => undefined);
    rmSync(storeDir, { recursive: true, force: true });
  }
});
