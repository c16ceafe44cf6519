/**
 * End to end on the shared Redis: two app instances that claim the same
 * identity (same service.name and service.instance.id, different processes)
 * are detected and reported by the `serve` sidecar, not silently merged.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CATALOGUE, LABEL, prometheusName } from '../../src/catalogue/MetricCatalogue';
import { scrape, sleep, startApp, waitFor } from '../support/processes';
import type { RunningApp } from '../support/processes';
import { countPrefix, deletePrefix, e2ePrefix, startServe } from '../support/serveProcess';
import type { RunningServe } from '../support/serveProcess';

const CONFLICTS = prometheusName(CATALOGUE.identityConflicts);
const REDIS_PORT = 6379;
const prefix = e2ePrefix('identity');
const env = {
  REDIS_ENABLED: 'true',
  REDIS_HOST: '127.0.0.1',
  REDIS_PORT: String(REDIS_PORT),
  REDIS_KEY_PREFIX: prefix,
  OTEL_SERVICE_NAME: 'twins',
};
const SIDECAR = { [LABEL.instance]: 'sidecar' };
const apps: RunningApp[] = [];
let serve: RunningServe | undefined;

before(async () => {
  const twin = { ...env, APP_WORKERS: '1', OTEL_RESOURCE_ATTRIBUTES: 'service.instance.id=twin-host' };
  apps.push(...(await Promise.all([startApp('cluster-app.js', twin), startApp('cluster-app.js', twin)])));
  serve = await startServe({ ...env, OTEL_CLUSTER_EXPORTER_SERVE_SCOPE: 'all', OTEL_RESOURCE_ATTRIBUTES: 'service.instance.id=sidecar' });
});

after(async () => {
  await Promise.all([...apps.map((app) => app.stop()), serve?.stop()]);
  await deletePrefix(REDIS_PORT, prefix);
  assert.equal(await countPrefix(REDIS_PORT, prefix), 0, 'no keys left behind');
});

test('two live instances claiming one service.instance.id are reported with the instance named', async () => {
  const running = serve as RunningServe;
  // Both write continuously; the overlap rule needs them side by side for more than ten seconds.
  const conflicts = await waitFor(
    'the identity conflict to be reported',
    async () => {
      // Every exporter counts what it finds itself (the apps' primaries too): read the sidecar's own count.
      const found = (await scrape(running.port)).sum(CONFLICTS, { ...SIDECAR, [LABEL.serviceName]: 'twins', [LABEL.serviceInstanceId]: 'twin-host' });
      // One pair per slot both claim: the primaries (slot -1) and the workers of slot 0.
      return found >= 2 ? found : undefined;
    },
    25_000,
  );
  assert.equal(conflicts, 2);
  assert.match(running.stderr(), /two live processes write as service "twins" instance "twin-host"/);
  // Reported once per pair of processes, not once per scrape.
  await sleep(1000);
  const again = (await scrape(running.port)).sum(CONFLICTS, { ...SIDECAR, [LABEL.serviceInstanceId]: 'twin-host' });
  assert.equal(again, conflicts);
  assert.equal(running.stderr().match(/two live processes/g)?.length, 1, 'logged once');
  // The apps' own primaries read the same store and say so in their logs as well.
  await waitFor('both apps to log the conflict', () => (apps.every((app) => /instance "twin-host"/.test(app.stderr())) ? true : undefined), 10_000);
});
