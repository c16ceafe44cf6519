/**
 * End to end: `otel-cluster-exporter run` supervising a plain app (no
 * cluster code, no preload on the command line) — real master, real
 * workers, real signals, real keep-alive load over loopback, real scrapes.
 *
 * One supervised app goes through every option and signal in turn (the
 * counts must stay exact throughout); QUIT/USR1/USR2, the crash loop, the
 * app that cannot start and bad options get their own short-lived masters.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CATALOGUE, prometheusName } from '../../src/catalogue/MetricCatalogue';
import { BASE_DELAY_MS } from '../../src/supervisor/Backoff';
import { APPS, CLI, httpRequest, scrape, sleep, waitFor } from '../support/processes';
import { keepAliveGet, keepAliveLoad, startRun, waitGone } from '../support/runProcess';
import type { RunningMaster } from '../support/runProcess';
import { CHILD_ENV } from '../support/childEnv';

const REQUESTS = prometheusName(CATALOGUE.requests);
const WORKER_RESTARTS = prometheusName(CATALOGUE.workerRestarts);
const MASTER_RESTARTS = prometheusName(CATALOGUE.masterRestarts);
const MASTER_RESTART_COUNT = prometheusName(CATALOGUE.masterRestartCount);
const WORKERS = CATALOGUE.workers.name;
const DESIRED = CATALOGUE.workersDesired.name;
const TIMEOUT_S = 2;
/** Longer than the flush interval (500 ms). */
const HANG_AFTER_MS = 1200;

/** Both workers listen again (a replacement that is still starting serves nothing yet). */
function bothRunning(m: Awaited<ReturnType<typeof scrape>>): boolean {
  return m.sum(CATALOGUE.state.name, { state: 'running' }) === 2;
}

/** `reason=value` of every restart counter series, for a failure message. */
function restartsByReason(m: Awaited<ReturnType<typeof scrape>>): string {
  return m
    .find(WORKER_RESTARTS)
    .map((s) => `${s.labels['worker_id']}/${s.labels['reason']}=${s.value}`)
    .join(' ');
}

/** `worker_id/state` of every worker state series at 1, for a failure message. */
function statesOf(m: Awaited<ReturnType<typeof scrape>>): string {
  return m
    .find(CATALOGUE.state.name)
    .filter((s) => s.value === 1)
    .map((s) => `${s.labels['worker_id']}/${s.labels['state']}`)
    .join(' ');
}

/** The pid in an "ok <pid>" style answer. */
function pidOf(body: string): number {
  const pid = Number(body.split(' ')[1]);
  assert.ok(Number.isInteger(pid) && pid > 0, `no pid in ${JSON.stringify(body)}`);
  return pid;
}

describe('run: one supervised app through every option and signal', () => {
  let master: RunningMaster | undefined;
  /** Requests the test sent so far, readiness probes included; the merged total must equal it. */
  let sent = 0;
  const get = async (path: string): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> => {
    sent++;
    return httpRequest(master?.appPort ?? 0, path);
  };
  const metrics = async (): Promise<Awaited<ReturnType<typeof scrape>>> => scrape(master?.metricsPort ?? 0);
  /** Wait until the merged request total is exactly what was sent. */
  const countsExact = async (what: string): Promise<void> => {
    let last = -1;
    await waitFor(
      `${what}: ${sent} requests counted (last seen ${last})`,
      async () => {
        last = (await metrics()).sum(REQUESTS);
        return last === sent ? true : undefined;
      },
      20_000,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}; counted ${last}, sent ${sent}\n${master?.stderr() ?? ''}`);
    });
  };

  before(async () => {
    master = await startRun([
      '-w',
      '2',
      '--timeout',
      String(TIMEOUT_S),
      '--graceful-timeout',
      '4',
      '--max-requests',
      '400',
      '--max-requests-jitter',
      '40',
      '--max-memory',
      '200',
      '--keepalive',
      '3',
      '--node-arg=--max-old-space-size=256',
    ]);
    // startApp's readiness probe: the first GET / answered 200; others may have failed before it listened.
    sent = 1;
    await countsExact('the readiness probe');
  });
  after(async () => {
    await master?.stop();
  });

  test('starts the workers with the preload, --node-arg and --keepalive, and reports workers and desired workers', async () => {
    const execArgv = JSON.parse((await get('/execargv')).body) as string[];
    assert.ok(execArgv.includes('--max-old-space-size=256'), execArgv.join(' '));
    assert.ok(
      execArgv.some((arg) => arg.endsWith('register.js')),
      'workers run the preload',
    );
    sent++;
    const answer = await keepAliveGet(master?.appPort ?? 0, '/');
    assert.equal(answer.headers['keep-alive'], 'timeout=3', 'the server keep-alive timeout is --keepalive');
    const m = await metrics();
    assert.equal(m.sum(WORKERS), 2);
    assert.equal(m.sum(DESIRED), 2);
    await countsExact('the first requests');
  });

  test('max_requests recycling under keep-alive load fails no request and loses no count', async () => {
    const result = await keepAliveLoad(master?.appPort ?? 0, '/', { count: 2000 });
    sent += result.sent;
    assert.equal(result.failed, 0, `failed requests: ${result.failures.join('; ')}`);
    await waitFor('two recycles', async () => ((await metrics()).sum(WORKER_RESTARTS, { reason: 'max_requests' }) >= 2 ? true : undefined));
    await countsExact('after recycling');
    const m = await metrics();
    assert.equal(m.sum(MASTER_RESTART_COUNT, { reason: 'max_requests', restart_type: 'planned' }), m.sum(WORKER_RESTARTS, { reason: 'max_requests' }));
    const ids = new Set(m.find(REQUESTS).map((s) => s.labels['worker_id']));
    assert.deepEqual([...ids].sort(), ['0', '1'], 'two workers, two worker_id values, however often they were replaced');
  });

  test('a HUP reload under keep-alive load fails no request and loses no count', async () => {
    let hupSent = false;
    let reloaded = false;
    const watch = (async () => {
      await waitFor('the reload', async () => ((await metrics()).sum(MASTER_RESTARTS, { reason: 'hup' }) === 2 ? true : undefined), 20_000);
      reloaded = true;
    })();
    const result = await keepAliveLoad(master?.appPort ?? 0, '/', {
      count: 500,
      maxCount: 30_000,
      // The load goes on until both workers were replaced, so every handover happens under load.
      keepGoing: () => !reloaded,
      onProgress: (done) => {
        if (!hupSent && done >= 200) {
          hupSent = true;
          master?.signal('SIGHUP');
        }
      },
    });
    sent += result.sent;
    await watch;
    assert.equal(result.failed, 0, `failed requests: ${result.failures.join('; ')}`);
    assert.ok(result.sent < 30_000, 'the reload finished while the load ran');
    await countsExact('after HUP');
    assert.equal((await metrics()).sum(WORKER_RESTARTS, { reason: 'hup' }), 2, 'one per worker replaced');
  });

  test('TTIN adds worker 2, TTOU retires it again', async () => {
    master?.signal('SIGTTIN');
    await waitFor('a third worker', async () => {
      const m = await metrics();
      return m.sum(WORKERS) === 3 && m.sum(DESIRED) === 3 ? true : undefined;
    });
    await waitFor('worker 2 to serve', async () => {
      await get('/');
      return (await metrics()).find(REQUESTS, { worker_id: '2' }).length > 0 ? true : undefined;
    });
    master?.signal('SIGTTOU');
    await waitFor('back to two workers', async () => {
      const m = await metrics();
      return m.sum(WORKERS) === 2 && m.sum(DESIRED) === 2 && m.sum(WORKER_RESTARTS, { reason: 'ttou', worker_id: '2' }) === 1 ? true : undefined;
    });
    const afterTtou = await metrics();
    assert.equal(afterTtou.sum(MASTER_RESTARTS, { reason: 'ttin' }), 1);
    // The SDK would keep an observable gauge's series at its last value: a retired slot must have none.
    assert.equal(afterTtou.find(CATALOGUE.state.name, { worker_id: '2' }).length, 0, 'the retired worker 2 has no state series');
    await countsExact('after TTIN/TTOU');
  });

  test(`a worker whose event loop hangs is SIGKILLed within --timeout + 1 s and replaced`, async () => {
    // It hangs after its next flush, so the answered request is counted (a SIGKILL loses what was not flushed).
    const pid = pidOf((await get(`/spin?after=${HANG_AFTER_MS}`)).body);
    const elapsed = (await waitGone(pid)) - HANG_AFTER_MS;
    assert.ok(elapsed <= TIMEOUT_S * 1000 + 1000, `killed ${elapsed} ms after its event loop hung`);
    await waitFor('the timeout to be counted', async () => {
      const m = await metrics();
      return m.sum(MASTER_RESTART_COUNT, { reason: 'timeout', restart_type: 'unplanned' }) === 1 && bothRunning(m) ? true : undefined;
    });
    await countsExact('after the hung worker');
  });

  test('a crashing worker is counted as crash and replaced at once', async () => {
    const pid = pidOf((await get('/crash')).body);
    await waitGone(pid);
    let seen = 'nothing scraped';
    await waitFor('the crash to be counted', async () => {
      const m = await metrics();
      seen = `restarts ${restartsByReason(m)}; states ${statesOf(m)}`;
      return m.sum(WORKER_RESTARTS, { reason: 'crash' }) === 1 && bothRunning(m) ? true : undefined;
    }).catch((error: unknown) => {
      throw new Error(`${String(error)}; last seen ${seen}\n${master?.stderr() ?? ''}`);
    });
    await countsExact('after the crash');
  });

  test('a worker whose RSS stays above --max-memory is replaced', async () => {
    const pid = pidOf((await get('/grow?mb=250')).body);
    await waitGone(pid, 20_000);
    await waitFor('the memory restart to be counted', async () => ((await metrics()).sum(WORKER_RESTARTS, { reason: 'memory' }) === 1 ? true : undefined));
    await countsExact('after the memory restart');
  });

  test('TERM lets a 2 s request finish, then the master exits 0', async () => {
    const slow = get('/slow?ms=2000');
    await sleep(300);
    const stoppedAt = Date.now();
    master?.signal('SIGTERM');
    const answer = await slow;
    assert.equal(answer.status, 200);
    assert.match(answer.body, /^slow /);
    assert.equal(await master?.exited, 0, master?.stderr());
    assert.ok(Date.now() - stoppedAt < 4000, `stopped ${Date.now() - stoppedAt} ms after TERM (graceful timeout 4 s)`);
  });
});

describe('run: the graceful timeout, USR1, USR2 and QUIT', () => {
  let master: RunningMaster | undefined;
  after(async () => {
    await master?.stop();
  });

  test('USR1 and USR2 are counted and change nothing', async () => {
    master = await startRun(['-w', '1', '--graceful-timeout', '1']);
    const running = master;
    const pid = pidOf((await httpRequest(running.appPort, '/')).body);
    running.signal('SIGUSR1');
    running.signal('SIGUSR2');
    await waitFor('USR1 and USR2 counted', async () => {
      const m = await scrape(running.metricsPort);
      return m.sum(MASTER_RESTARTS, { reason: 'usr1' }) === 1 && m.sum(MASTER_RESTARTS, { reason: 'usr2' }) === 1 ? true : undefined;
    });
    assert.equal(pidOf((await httpRequest(running.appPort, '/')).body), pid, 'the same worker still serves');
  });

  test('a retiring worker whose request outlasts --graceful-timeout is SIGKILLed at the timeout', async () => {
    const running = master as RunningMaster;
    const pid = pidOf((await httpRequest(running.appPort, '/')).body);
    const slow = httpRequest(running.appPort, '/slow?ms=8000').then(
      () => 'answered',
      () => 'failed',
    );
    await sleep(200);
    running.signal('SIGHUP');
    const gone = await waitGone(pid);
    assert.equal(await slow, 'failed', 'the request was cut at the graceful timeout');
    assert.ok(gone >= 1000 && gone < 6000, `the old worker lived ${gone} ms after HUP, graceful timeout 1 s`);
    await waitFor('the reload counted', async () => ((await scrape(running.metricsPort)).sum(WORKER_RESTARTS, { reason: 'hup' }) === 1 ? true : undefined));
  });

  test('QUIT stops at once with exit 0, without waiting for requests', async () => {
    const running = master as RunningMaster;
    const slow = httpRequest(running.appPort, '/slow?ms=5000').then(
      () => 'answered',
      () => 'failed',
    );
    await sleep(200);
    const quitAt = Date.now();
    running.signal('SIGQUIT');
    assert.equal(await running.exited, 0);
    assert.ok(Date.now() - quitAt < 2000, `QUIT took ${Date.now() - quitAt} ms`);
    assert.equal(await slow, 'failed');
  });
});

describe('run: failures', () => {
  let master: RunningMaster | undefined;
  after(async () => {
    await master?.stop();
  });

  test('a second TERM during a graceful stop stops at once', async () => {
    const stopping = await startRun(['-w', '1', '--graceful-timeout', '30']);
    try {
      const slow = httpRequest(stopping.appPort, '/slow?ms=10000').then(
        () => 'answered',
        () => 'failed',
      );
      await sleep(200);
      stopping.signal('SIGTERM');
      await sleep(300);
      const secondAt = Date.now();
      stopping.signal('SIGTERM');
      assert.equal(await Promise.race([stopping.exited, sleep(10_000).then(() => 'still running')]), 0);
      assert.ok(Date.now() - secondAt < 2000, `exited ${Date.now() - secondAt} ms after the second TERM`);
      assert.equal(await slow, 'failed');
    } finally {
      await stopping.stop();
    }
  });

  test('a crash-looping worker is restarted with growing delays, not in a tight loop', async () => {
    master = await startRun(['-w', '1'], { APP_CRASH_AFTER_MS: '100' }, { waitReady: false });
    const running = master;
    await waitFor('the metrics endpoint', async () => ((await httpRequest(running.metricsPort, '/metrics')).status === 200 ? true : undefined));
    await sleep(4000);
    const crashes = (await scrape(running.metricsPort)).sum(WORKER_RESTARTS, { reason: 'crash' });
    const delays = [...running.stderr().matchAll(/restarting in (\d+) ms/g)].map((match) => Number(match[1]));
    assert.ok(crashes >= 2 && crashes <= 7, `${crashes} crashes in 4 s`);
    assert.deepEqual(delays.slice(0, 3), [BASE_DELAY_MS, 2 * BASE_DELAY_MS, 4 * BASE_DELAY_MS], running.stderr());
    assert.equal(running.child.exitCode, null, 'the master keeps supervising');
  });

  test('an app that cannot start makes the master exit 1 with the reason, after at most one fork per worker', async () => {
    const failing = await startRun(['-w', '3'], { APP_BOOT_FAIL: '1' }, { waitReady: false });
    try {
      const status = await Promise.race([failing.exited, sleep(15_000).then(() => 'still running')]);
      assert.equal(status, 1, failing.stderr());
      assert.match(failing.stderr(), /the app could not start: worker \d \(pid \d+\) exited with code 1 before the app started listening/);
      const boots = failing.stderr().split('Error: cannot start: APP_BOOT_FAIL is set').length - 1;
      assert.ok(boots >= 1 && boots <= 3, `${boots} workers forked`);
    } finally {
      await failing.stop();
    }
  });

  test('bad options and bad configuration are rejected before anything starts, naming the option or key', () => {
    const app = join(APPS, 'plain-app.js');
    const cli = (args: string[], env: Record<string, string> = {}): { status: number | null; stderr: string } => {
      const result = spawnSync(process.execPath, [CLI, 'run', ...args], { env: { ...CHILD_ENV, ...env }, encoding: 'utf8', timeout: 10_000 });
      return { status: result.status, stderr: result.stderr };
    };
    const dir = mkdtempSync(join(tmpdir(), 'ocx-run-config-'));
    try {
      const yaml = join(dir, 'exporter.yml');
      writeFileSync(yaml, 'exporter:\n  gunicorn:\n    graceful_timeout: soon\n');
      const cases: [string[], Record<string, string>, number, RegExp][] = [
        [['-w', '0', app], {}, 1, /--workers: expected an integer >= 1, got "0"/],
        [['--timeout', 'soon', app], {}, 1, /--timeout: expected an integer from 0 to 2147483, got "soon"/],
        [['--node-arg', 'fast', app], {}, 1, /--node-arg/],
        [['--bogus', app], {}, 1, /Unknown option '--bogus'/],
        [[], {}, 1, /no app given/],
        [[app], { GUNICORN_MAX_REQUESTS: '-1' }, 78, /GUNICORN_MAX_REQUESTS: expected an integer >= 0/],
        [['-c', yaml, app], {}, 78, /exporter\.yml: exporter\.gunicorn\.graceful_timeout: expected an integer from 0 to 2147483/],
        [[join(dir, 'missing.js')], {}, 1, /cannot start the app .*missing\.js/],
      ];
      for (const [args, env, status, message] of cases) {
        const result = cli(args, env);
        assert.equal(result.status, status, `run ${args.join(' ')}: ${result.stderr}`);
        assert.match(result.stderr, message);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
