/**
 * examples/pm2/ecosystem.config.js: loads, runs the app in cluster mode under
 * the preload, and points `serve` at the same store directory on its own port.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../support/processes';
import { PACKAGE_ENV, configFor, looksLikePackageEnv } from './exampleWiring';

interface Pm2App {
  readonly name: string;
  readonly script: string;
  readonly args?: string;
  readonly exec_mode?: string;
  readonly instances?: number;
  readonly node_args?: string;
  readonly env?: Record<string, string>;
}

const DIR = join(ROOT, 'examples', 'pm2');
const PACKAGE_PATH = './node_modules/otel-cluster-exporter/';
/** Variables the example app itself reads. */
const APP_ENV = new Set(['PORT']);

const ecosystem = require(join(DIR, 'ecosystem.config.js')) as { apps: Pm2App[] };
const app = ecosystem.apps.find((entry) => entry.args === undefined);
const serve = ecosystem.apps.find((entry) => entry.args === 'serve');

test('the ecosystem has the app and a serve process, both with files that exist', () => {
  assert.equal(ecosystem.apps.length, 2);
  assert.ok(app && serve, 'an app entry and a serve entry');
  assert.ok(existsSync(join(DIR, app.script)), `${app.script} exists next to the ecosystem file`);
  assert.ok(serve.script.startsWith(PACKAGE_PATH), `serve runs the package's command from node_modules, got ${serve.script}`);
  // The same file in this repository (built by npm run build) is what the package ships.
  assert.ok(existsSync(join(ROOT, serve.script.slice(PACKAGE_PATH.length))), `${serve.script} is a file the package ships`);
  assert.equal(new Set(ecosystem.apps.map((entry) => entry.name)).size, 2, 'distinct names');
});

test('the app runs in cluster mode under the preload; serve runs once, without it', () => {
  assert.ok(app && serve);
  assert.equal(app.exec_mode, 'cluster');
  assert.ok((app.instances ?? 0) > 1);
  assert.deepEqual(app.node_args?.split(/\s+/), ['--require', 'otel-cluster-exporter/register']);
  assert.equal(serve.exec_mode, 'fork');
  assert.equal(serve.instances, 1);
  assert.equal(serve.node_args, undefined, 'serve records nothing itself');
});

test('every variable is one the package or the app reads, and the values are valid configuration', () => {
  for (const entry of ecosystem.apps) {
    const env = entry.env ?? {};
    for (const name of Object.keys(env)) {
      assert.ok(PACKAGE_ENV.has(name) || (APP_ENV.has(name) && !looksLikePackageEnv(name)), `${entry.name}: ${name} is not a configuration variable`);
    }
    configFor(env); // throws a ConfigError naming the key if a value is bad
  }
});

test('app and serve meet in one store directory and serve listens on a port of its own', () => {
  assert.ok(app && serve);
  const appConfig = configFor(app.env ?? {});
  const serveConfig = configFor(serve.env ?? {});
  assert.notEqual(appConfig.prometheus.multiprocDir, '', 'the store directory is set explicitly');
  assert.equal(serveConfig.prometheus.multiprocDir, appConfig.prometheus.multiprocDir);
  assert.equal(serveConfig.redis.enabled, false, 'the embedded store');
  assert.equal(serveConfig.otel.serviceName, appConfig.otel.serviceName);
  assert.notEqual(String(serveConfig.prometheus.metricsPort), app.env?.PORT, 'serve and the app use different ports');
  assert.equal(serveConfig.prometheus.bindAddress, '0.0.0.0', 'reachable by a Prometheus on another host');
});
