/**
 * A cluster worker takes the configuration its primary checked for its fork
 * instead of loading the schema itself (a worker's heap is ~1.5 MB smaller
 * for it), and still sees what it would have read: a file changed since the
 * primary started (a rolling reload after an edit), the app's own variables
 * for that fork, and a broken file stops it with exit 78 as before.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APPS, REGISTER, ROOT } from '../support/processes';
import { CHILD_ENV } from '../support/childEnv';

interface Report {
  readonly role?: string;
  readonly maxEndpoints?: number;
  readonly sourceFile?: string;
  readonly loadedValibot?: boolean;
  readonly loadedSchema?: boolean;
  readonly handoffVisible?: boolean;
  readonly exit?: number;
}

test('workers forked one by one get the configuration of the file and environment at their fork, without loading the schema', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocx-handoff-'));
  try {
    const file = join(dir, 'exporter.yml');
    // What the primary starts with; the app rewrites it before each fork.
    writeFileSync(file, 'exporter:\n  metrics:\n    max_endpoints: 10\n');
    const result = spawnSync(process.execPath, ['--require', REGISTER, join(APPS, 'config-handoff-app.js')], {
      env: {
        ...CHILD_ENV,
        PACKAGE_ROOT: ROOT,
        OTEL_CLUSTER_EXPORTER_CONFIG: file,
        OTEL_CLUSTER_EXPORTER_QUIET: 'true',
        PROMETHEUS_METRICS_PORT: '0',
        PROMETHEUS_BIND_ADDRESS: '127.0.0.1',
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(result.status, 0, result.stderr);
    const { primaryLoadedValibot, reports } = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '') as { primaryLoadedValibot: boolean; reports: Report[] };
    assert.equal(primaryLoadedValibot, true);
    const worker = (maxEndpoints: number): Report => ({
      role: 'cluster-worker',
      maxEndpoints,
      sourceFile: file,
      loadedValibot: false,
      loadedSchema: false,
      handoffVisible: false,
    });
    assert.deepEqual(reports, [worker(11), { exit: 0 }, worker(12), { exit: 0 }, worker(13), { exit: 0 }, { exit: 78 }]);
    assert.match(result.stderr, /invalid configuration: .*max_endpoints/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
