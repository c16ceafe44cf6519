/**
 * examples/run starts with its one command (`npm run example:run` runs
 * examples/run/demo.js) and shows what the README says: recycling and a HUP
 * reload under keep-alive load with no failed request, a hung worker killed,
 * every restart named in the merged metrics.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, freePort } from '../support/processes';
import { CHILD_ENV } from '../support/childEnv';

test('examples/run: one command shows recycling, a reload and a hung worker, each restart with its reason', async () => {
  const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  assert.match(scripts['example:run'] ?? '', /node examples\/run\/demo\.js$/);
  const [port, metricsPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, [join(ROOT, 'examples', 'run', 'demo.js')], {
    env: { ...CHILD_ENV, PORT: String(port), PROMETHEUS_METRICS_PORT: String(metricsPort), EXAMPLE_ONCE: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const status = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
  assert.equal(status, 0, output);
  assert.match(output, /3000 keep-alive requests through recycling and a HUP reload: 0 failed/);
  for (const reason of ['max_requests', 'hup', 'timeout']) assert.match(output, new RegExp(`gunicorn_worker_restart_total\\{reason="${reason}",worker_id="[01]"\\} \\d`), output);
  assert.match(output, /gunicorn_workers_desired 2/);
  assert.match(output, /requests counted: 3002 /, 'every request counted once, the readiness probe included');
});
