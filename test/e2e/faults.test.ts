/**
 * The host app comes first: a full disk under the embedded store fails no
 * request, the endpoint keeps answering, the failure is counted, and once
 * space is back every request is accounted for.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CATALOGUE, prometheusName } from '../../src/catalogue/MetricCatalogue';
import { load, scrape, sleep, startApp } from '../support/processes';
import type { RunningApp } from '../support/processes';

const REQUESTS = prometheusName(CATALOGUE.requests);
const STORE_ERRORS = prometheusName(CATALOGUE.storeErrors);

/** A 1 MiB tmpfs, or why one cannot be mounted here. */
function mountSmallDisk(): { dir: string; unmount: () => void } | string {
  const dir = mkdtempSync(join(tmpdir(), 'ocx-full-disk-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]);
  if (mounted.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return `cannot mount a tmpfs here (${mounted.stderr.toString().trim() || 'mount failed'}); the full-disk test needs root`;
  }
  return {
    dir,
    unmount: () => {
      spawnSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const disk = mountSmallDisk();

describe('a full disk under the embedded store', { skip: typeof disk === 'string' ? disk : false }, () => {
  let app: RunningApp;
  const filler = typeof disk === 'string' ? '' : join(disk.dir, 'filler');

  before(async () => {
    if (typeof disk === 'string') return;
    app = await startApp('cluster-app.js', { APP_WORKERS: '2', PROMETHEUS_MULTIPROC_DIR: disk.dir });
  });
  after(async () => {
    await app?.stop();
    if (typeof disk !== 'string') disk.unmount();
  });

  test('requests all succeed, scrapes answer, failures are counted, and counts catch up when space returns', async () => {
    await load(app.appPort, '/', 30);
    await sleep(1100);
    const before = (await scrape(app.metricsPort)).sum(REQUESTS);

    // Fill the disk: no snapshot can be written any more.
    try {
      writeFileSync(filler, Buffer.alloc(2 * 1024 * 1024));
    } catch {
      // ENOSPC once the disk is full: exactly what we want.
    }
    const statuses = await load(app.appPort, '/', 200);
    assert.deepEqual([...statuses.entries()], [[200, 200]], 'every request answered 200 while the disk was full');
    await sleep(1100);
    const during = await scrape(app.metricsPort);
    assert.ok(during.sum(STORE_ERRORS, { operation: 'write' }) > 0, 'write failures are counted');
    assert.ok(during.sum(REQUESTS) >= before, 'counters do not go back while writes fail');

    unlinkSync(filler);
    await sleep(1500);
    const recovered = await scrape(app.metricsPort);
    assert.equal(recovered.sum(REQUESTS), before + 200, 'every request made while the disk was full is counted after it recovers');
    assert.match(app.stderr(), /failed/, 'the outage was logged');
    const outageLines = app
      .stderr()
      .split('\n')
      .filter((line) => line.includes('writing a snapshot'));
    assert.ok(outageLines.length <= 3, `logged once per process, not per attempt: ${outageLines.length} lines`);
  });
});
