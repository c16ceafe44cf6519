/**
 * The host app comes first: a full disk under the embedded store fails no
 * request, the endpoint keeps answering, the failure is counted, and once
 * space is back every request is accounted for.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CATALOGUE, prometheusName } from '../../src/catalogue/MetricCatalogue';
import { load, scrape, sleep, startApp, waitFor } from '../support/processes';
import type { RunningApp } from '../support/processes';

const REQUESTS = prometheusName(CATALOGUE.requests);
const STORE_ERRORS = prometheusName(CATALOGUE.storeErrors);
const SNAPSHOT_AGE = prometheusName(CATALOGUE.snapshotAge);

/**
 * Fill `filler`'s disk and keep it full until the returned function is called.
 * One fill is not enough: a snapshot write in flight at that moment renames
 * over its older copy afterwards and frees a page or two, and a process whose
 * snapshot fits in them keeps writing for the whole outage. A real full disk
 * is kept full by whatever filled it; so is this one, by topping up every 20 ms.
 */
function keepDiskFull(filler: string): () => void {
  const topUp = (): void => {
    try {
      appendFileSync(filler, Buffer.alloc(64 * 1024));
    } catch {
      // ENOSPC: the disk is full, which is the point.
    }
  };
  try {
    writeFileSync(filler, Buffer.alloc(2 * 1024 * 1024));
  } catch {
    // ENOSPC once the disk is full: exactly what we want.
  }
  const timer = setInterval(topUp, 20);
  // A test that fails before it stops the filling must not hold the run open.
  timer.unref();
  return () => clearInterval(timer);
}

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

    // Fill the disk and keep it full: no snapshot can be written any more.
    const stopFilling = keepDiskFull(filler);
    const statuses = await load(app.appPort, '/', 200);
    assert.deepEqual([...statuses.entries()], [[200, 200]], 'every request answered 200 while the disk was full');
    // The primary's failures show at once (its own snapshot is served fresh);
    // the workers' are in snapshots that cannot be written, so the view shows
    // them as a snapshot age that grows with the outage.
    const during = await waitFor('write failures and stale workers in the view', async () => {
      const exposition = await scrape(app.metricsPort);
      return exposition.sum(STORE_ERRORS, { operation: 'write' }) > 0 && exposition.sum(SNAPSHOT_AGE) >= 1 ? exposition : undefined;
    });
    assert.ok(during.sum(REQUESTS) >= before, 'counters do not go back while writes fail');

    stopFilling();
    unlinkSync(filler);
    const recovered = await waitFor('every request to be counted after the disk has space again', async () => {
      const exposition = await scrape(app.metricsPort);
      return exposition.sum(REQUESTS) >= before + 200 ? exposition : undefined;
    });
    assert.equal(recovered.sum(REQUESTS), before + 200, 'every request made while the disk was full is counted after it recovers');
    assert.match(app.stderr(), /failed/, 'the outage was logged');
    const outageLines = app
      .stderr()
      .split('\n')
      .filter((line) => line.includes('writing a snapshot'));
    assert.ok(outageLines.length <= 3, `logged once per process, not per attempt: ${outageLines.length} lines`);
  });
});
