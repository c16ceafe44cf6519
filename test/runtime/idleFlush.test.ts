/**
 * An idle flush reuses the last collection instead of running the SDK's, and
 * still sees everything that can change: a GC (the one event instrument on
 * the process's provider), and, once the app has taken a meter, the app's
 * instruments and observable callbacks at every flush.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APPS, ROOT } from '../support/processes';

test('flushes with nothing new reuse the collection; a GC, app counters and app observable gauges are seen at the next flush', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocx-idle-flush-'));
  try {
    const result = spawnSync(process.execPath, ['--expose-gc', join(APPS, 'idle-flush-child.js'), join(ROOT, 'build', 'src'), dir], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(result.status, 0, result.stderr);
    const report = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '') as Record<string, unknown>;
    assert.deepEqual(report, { idleReused: true, gcSeen: true, appCounter: [3, 5, 5], appGauge: [1, 2, 3] });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
