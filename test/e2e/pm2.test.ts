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
import { ROOT, freePort, sleep, waitFor } from '../support/processes';

const run = promisify(execFile);
const PM2 = join(ROOT, 'node_modules', 'pm2', 'bin', 'pm2');
const EXAMPLE = join(ROOT, 'examples', 'pm2');

interface Pm2Process {
  name: string;
  pm2_env: { status: string; restart_time: number; exit_code?: number; pm_err_log_path: string; stop_exit_codes?: number[] };
}

let home: string;
const pm2 = (...args: string[]) => run(process.execPath, [PM2, ...args], { env: { ...process.env, PM2_HOME: home }, timeout: 60000 });

before(() => {
  home = mkdtempSync(join(tmpdir(), 'ocx-pm2-'));
});
after(async () => {
  await pm2('kill').catch(() => undefined);
  rmSync(home, { recursive: true, force: true });
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
