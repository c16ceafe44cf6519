import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { grafanaDashboard } from '../../src/catalogue/grafanaDashboard';
import { CATALOGUE, prometheusName } from '../../src/catalogue/MetricCatalogue';
import { parseOpenMetrics, openMetricsParserUnavailable } from '../support/openMetricsParser';
import type { ParsedFamily } from '../support/openMetricsParser';
import { APPS, httpRequest, parseExposition, REGISTER, startApp, waitFor } from '../support/processes';
import type { RunningApp } from '../support/processes';
import { PrometheusServer, prometheusUnavailable } from '../support/PrometheusServer';
import { startServe } from '../support/serveProcess';
import { CHILD_ENV } from '../support/childEnv';

/**
 * The way a user locks the endpoint down and ties latency to traces: a
 * two-worker cluster app under the preload with a real tracing setup loaded by
 * a second --require, a web configuration with a bcrypt user and security
 * headers, a custom metrics path; scraped by curl-like requests, by the strict
 * Python OpenMetrics parser and by a real Prometheus with basic auth and
 * exemplar storage.
 */

const USER = 'prometheus';
const PASSWORD = 'correct horse battery staple';
const METRICS_PATH = '/internal/metrics';
const OPENMETRICS_ACCEPT = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
const DURATION_FAMILY = CATALOGUE.requestDuration.name;

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

const AUTH = { authorization: basic(USER, PASSWORD) };
/** The app's `/`, which startApp polls until the app answers: traced too, by requests this test does not see. */
const READINESS_ENDPOINT = '/';
const SKIP = prometheusUnavailable() || openMetricsParserUnavailable();

describe('a locked-down, traced cluster', { skip: SKIP }, () => {
  let dir = '';
  let app: RunningApp | undefined;
  let prometheus: PrometheusServer | undefined;
  /** Trace ids the app's handlers ran in, as they reported them. */
  const traceIds = new Set<string>();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ocx-webconfig-'));
    const webConfig = join(dir, 'web.yml');
    writeFileSync(
      webConfig,
      [
        'http_server_config:',
        '  headers:',
        '    X-Frame-Options: deny',
        '    X-Content-Type-Options: nosniff',
        'basic_auth_users:',
        `  ${USER}: ${bcrypt.hashSync(PASSWORD, 10)}`,
        '',
      ].join('\n'),
    );
    app = await startApp(
      'traced-cluster-app.js',
      { APP_WORKERS: '2', PROMETHEUS_WEB_CONFIG_FILE: webConfig, PROMETHEUS_METRICS_PATH: METRICS_PATH },
      { alsoRequire: join(APPS, 'tracing.js'), metricsPath: METRICS_PATH, metricsHeaders: AUTH },
    );
    for (let i = 0; i < 40; i++) {
      const reply = await httpRequest(app.appPort, i % 4 === 0 ? '/slow' : `/fast/${i}`);
      assert.equal(reply.status, 200);
      assert.match(reply.body, /^[0-9a-f]{32}\n$/, 'the tracing setup gives every request a sampled trace');
      traceIds.add(reply.body.trim());
    }
  });

  after(async () => {
    await prometheus?.stop();
    await app?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('without credentials, or with wrong ones, the metrics path answers 401 with a Basic challenge', async () => {
    const attempts: Record<string, string>[] = [{}, { authorization: basic(USER, 'wrong') }, { authorization: basic('nobody', PASSWORD) }, { authorization: 'Bearer abc' }];
    for (const headers of attempts) {
      const reply = await httpRequest(app!.metricsPort, METRICS_PATH, { headers });
      assert.equal(reply.status, 401, JSON.stringify(headers));
      assert.match(String(reply.headers['www-authenticate']), /^Basic realm=/);
      assert.doesNotMatch(reply.body, /gunicorn_/, 'nothing of the metrics leaks into a refusal');
    }
  });

  test('with the right credentials it serves, with the configured headers; /healthz needs none; /metrics is not served', async () => {
    // Workers flush every 500 ms: wait until every request of before() is in the store.
    const reply = await waitFor('all requests counted', async () => {
      const answer = await httpRequest(app!.metricsPort, METRICS_PATH, { headers: AUTH });
      return parseExposition(answer.body).sum(prometheusName(CATALOGUE.requests)) >= 40 ? answer : undefined;
    });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['x-frame-options'], 'deny');
    assert.equal(reply.headers['x-content-type-options'], 'nosniff');
    assert.equal(reply.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    const classic = parseExposition(reply.body);
    assert.ok(classic.sum(prometheusName(CATALOGUE.requests)) >= 40);
    assert.doesNotMatch(reply.body, /trace_id/, 'the classic format carries no exemplars');
    assert.equal((await httpRequest(app!.metricsPort, '/healthz')).status, 200);
    assert.equal((await httpRequest(app!.metricsPort, '/metrics', { headers: AUTH })).status, 404);
  });

  test('asked for OpenMetrics, it answers OpenMetrics 1.0 that the strict parser accepts, with exemplars of the traces', async () => {
    // Workers flush every 500 ms: wait until both workers' exemplars are in the store.
    const families = await waitFor('exemplars in the OpenMetrics scrape', async () => {
      const reply = await httpRequest(app!.metricsPort, METRICS_PATH, { headers: { ...AUTH, accept: OPENMETRICS_ACCEPT } });
      assert.equal(reply.headers['content-type'], 'application/openmetrics-text; version=1.0.0; charset=utf-8');
      assert.ok(reply.body.endsWith('# EOF\n'));
      const parsed = await parseOpenMetrics(reply.body);
      return exemplarsOf(parsed).length >= 2 ? parsed : undefined;
    });
    const requests = families.find((family) => family.name === CATALOGUE.requests.name);
    assert.equal(requests?.type, 'counter', 'the counter family is named without _total');
    const duration = families.find((family) => family.name === DURATION_FAMILY);
    assert.equal(duration?.type, 'histogram');
    assert.equal(duration?.unit, 'seconds');
    const exemplars = exemplarsOf(families);
    for (const { sample, exemplar } of exemplars.filter(({ sample }) => sample.labels['endpoint'] !== READINESS_ENDPOINT)) {
      assert.ok(traceIds.has(exemplar.labels['trace_id'] ?? ''), `exemplar trace ${exemplar.labels['trace_id']} is one the app served`);
      assert.match(exemplar.labels['span_id'] ?? '', /^[0-9a-f]{16}$/);
      assert.ok(exemplar.value <= Number(sample.labels['le']), 'an exemplar sits in the bucket its value falls in');
    }
    const slow = exemplars.filter(({ exemplar }) => exemplar.value >= 0.1);
    assert.ok(slow.length > 0, 'the slow requests left exemplars in the high buckets');
    const workers = new Set(exemplars.map(({ sample }) => sample.labels['worker_id']));
    assert.equal(workers.size, 2, 'both workers contributed exemplars through the store');
  });

  test('serve, reading the store the app writes, applies the same web config and negotiation', async () => {
    const serve = await startServe({ PROMETHEUS_MULTIPROC_DIR: app!.storeDir, PROMETHEUS_WEB_CONFIG_FILE: join(dir, 'web.yml'), PROMETHEUS_METRICS_PATH: METRICS_PATH }, [], {
      metricsPath: METRICS_PATH,
      headers: AUTH,
    });
    try {
      assert.equal((await httpRequest(serve.port, METRICS_PATH)).status, 401);
      const reply = await httpRequest(serve.port, METRICS_PATH, { headers: { ...AUTH, accept: OPENMETRICS_ACCEPT } });
      assert.equal(reply.headers['content-type'], 'application/openmetrics-text; version=1.0.0; charset=utf-8');
      assert.equal(reply.headers['x-frame-options'], 'deny');
      const exemplars = exemplarsOf(await parseOpenMetrics(reply.body));
      assert.ok(
        exemplars.some(({ exemplar }) => traceIds.has(exemplar.labels['trace_id'] ?? '')),
        'the exemplars came through the file store',
      );
    } finally {
      await serve.stop();
    }
  });

  test('a real Prometheus scrapes with basic auth and stores the exemplars', async () => {
    prometheus = await PrometheusServer.start([`127.0.0.1:${app!.metricsPort}`], {
      scrapeConfig: [`metrics_path: ${METRICS_PATH}`, `basic_auth: {username: ${USER}, password: '${PASSWORD}'}`],
      flags: ['--enable-feature=exemplar-storage'],
    });
    await prometheus.until('the target to be up', async () => {
      const data = await prometheus!.api<{ activeTargets: { health: string; lastError: string }[] }>('/api/v1/targets');
      const target = data.activeTargets[0];
      if (target?.health === 'down') throw new Error(target.lastError);
      return target?.health === 'up' ? target : undefined;
    });
    const [requests] = await prometheus.eventually(`sum(${prometheusName(CATALOGUE.requests)})`);
    assert.ok(Number(requests!.value[1]) >= 40);
    // The query of the dashboard's exemplar panel, as Grafana sends it to the exemplar API.
    const panels = grafanaDashboard().panels as { targets: { expr: string; exemplar?: boolean }[] }[];
    const exemplarQuery = panels.flatMap((panel) => panel.targets).find((target) => target.exemplar === true)?.expr;
    assert.ok(exemplarQuery, 'the dashboard has an exemplar panel');
    const nowSeconds = Date.now() / 1000;
    const stored = await prometheus.until('stored exemplars', async () => {
      const data = await prometheus!.api<{ seriesLabels: Record<string, string>; exemplars: { labels: Record<string, string>; value: string }[] }[]>(
        `/api/v1/query_exemplars?query=${encodeURIComponent(exemplarQuery)}&start=${nowSeconds - 600}&end=${nowSeconds + 600}`,
      );
      return data.some((series) => series.exemplars.length > 0) ? data : undefined;
    });
    const ours = stored.filter(({ seriesLabels }) => seriesLabels['endpoint'] !== READINESS_ENDPOINT);
    assert.ok(ours.length > 0, 'exemplars of the requests this test made are stored');
    for (const { exemplars } of ours) {
      for (const exemplar of exemplars) assert.ok(traceIds.has(exemplar.labels['trace_id'] ?? ''), `stored exemplar ${JSON.stringify(exemplar)}`);
    }
  });
});

function exemplarsOf(families: readonly ParsedFamily[]): { sample: ParsedFamily['samples'][number]; exemplar: NonNullable<ParsedFamily['samples'][number]['exemplar']> }[] {
  const duration = families.find((family) => family.name === DURATION_FAMILY);
  return (duration?.samples ?? []).flatMap((sample) => (sample.exemplar === null ? [] : [{ sample, exemplar: sample.exemplar }]));
}

test('an invalid web configuration stops the app at startup, exit 78, naming the file and the key', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocx-webconfig-bad-'));
  try {
    const webConfig = join(dir, 'web.yml');
    writeFileSync(webConfig, 'basic_auth_users:\n  alice: not-a-hash\n');
    const child = fork(join(APPS, 'single-app.js'), [], {
      execArgv: ['--require', REGISTER],
      env: { ...CHILD_ENV, PROMETHEUS_WEB_CONFIG_FILE: webConfig, PROMETHEUS_METRICS_PORT: '0', APP_PORT: '0' },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    let listened = false;
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('message', () => (listened = true));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 78);
    assert.equal(listened, false, 'the app never served');
    assert.ok(stderr.includes(webConfig), stderr);
    assert.match(stderr, /basic_auth_users\.alice: expected a bcrypt hash/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
