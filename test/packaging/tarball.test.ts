/**
 * The package as a user installs it: `npm pack`, then `npm install --omit=dev`
 * of the tarball into a fresh app, which then runs under the preload. Catches a
 * tarball without dist/, and a runtime import that only a devDependency satisfied.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, fork, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CATALOGUE, prometheusName } from '../../src/catalogue/MetricCatalogue';
import { ROOT, freePort, httpRequest, scrape, stopGroup, waitFor } from '../support/processes';
import { CHILD_ENV } from '../support/childEnv';

interface Manifest {
  readonly name: string;
  readonly version: string;
  readonly scripts?: Record<string, string>;
  readonly dependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
}

const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Manifest;
const NPM_FLAGS = ['--no-audit', '--no-fund', '--loglevel=error'];

/** The package names a compiled file loads (`require('x')`, `require('@s/x/sub')`, `import('x')`). */
function bareImports(source: string): string[] {
  const names: string[] = [];
  for (const match of source.matchAll(/\b(?:require|import)\(\s*['"]([^'"./][^'"]*)['"]\s*\)/g)) {
    const specifier = match[1] ?? '';
    const parts = specifier.split('/');
    names.push(specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? ''));
  }
  return names;
}

function compiledFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return compiledFiles(path);
    return entry.name.endsWith('.js') ? [path] : [];
  });
}

test('prepack builds, so a tarball packed from a fresh clone carries dist/', () => {
  assert.match(manifest.scripts?.prepack ?? '', /npm run build/);
});

test('every package the compiled code loads is a declared runtime or peer dependency', () => {
  const declared = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {}), ...Object.keys(manifest.optionalDependencies ?? {})]);
  const builtins = new Set(builtinModules);
  const undeclared = new Set<string>();
  for (const file of compiledFiles(join(ROOT, 'dist'))) {
    for (const name of bareImports(readFileSync(file, 'utf8'))) {
      if (!builtins.has(name) && !name.startsWith('node:') && !declared.has(name)) undeclared.add(`${name} (${file.slice(ROOT.length + 1)})`);
    }
  }
  assert.deepEqual([...undeclared], []);
});

test('the packed tarball installs with --omit=dev into a fresh app and counts its requests under the preload', { timeout: 240_000 }, async () => {
  const work = mkdtempSync(join(tmpdir(), 'ocx-pack-'));
  try {
    // dist/ is already built by `npm test`; --ignore-scripts keeps the test from rebuilding it.
    const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work, ...NPM_FLAGS], { cwd: ROOT, encoding: 'utf8' })) as {
      filename: string;
      files: { path: string }[];
    }[];
    const [tarball] = packed;
    assert.ok(tarball, 'npm pack wrote a tarball');
    const shipped = new Set(tarball.files.map((file) => file.path));
    for (const path of ['dist/register.js', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'README.md']) assert.ok(shipped.has(path), `the tarball ships ${path}`);
    assert.ok(![...shipped].some((path) => path.startsWith('src/') || path.startsWith('test/') || path.startsWith('build/')), 'no sources, tests or test builds are shipped');

    const app = join(work, 'app');
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'fresh-app', version: '1.0.0', private: true }));
    writeFileSync(join(app, 'server.js'), "require('node:http').createServer((req, res) => res.end('ok')).listen(Number(process.env.APP_PORT), '127.0.0.1');\n");
    execFileSync('npm', ['install', '--omit=dev', ...NPM_FLAGS, join(work, tarball.filename)], { cwd: app, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

    // The installed command answers --version, and a bad configuration stops the preloaded app with 78.
    const bin = join(app, 'node_modules', '.bin', 'otel-cluster-exporter');
    assert.equal(execFileSync(bin, ['--version'], { encoding: 'utf8' }), `${manifest.version}\n`);
    const refused = spawnSync(process.execPath, ['--require', `${manifest.name}/register`, 'server.js'], {
      cwd: app,
      env: { ...CHILD_ENV, REDIS_PORT: 'abc' },
      encoding: 'utf8',
    });
    assert.equal(refused.status, 78, refused.stderr);
    assert.match(refused.stderr, /REDIS_PORT: expected an integer from 1 to 65535, got "abc"/);

    const appPort = await freePort();
    const metricsPort = await freePort();
    const child = fork(join(app, 'server.js'), [], {
      cwd: app,
      execArgv: ['--require', `${manifest.name}/register`],
      env: { ...CHILD_ENV, APP_PORT: String(appPort), PROMETHEUS_METRICS_PORT: String(metricsPort), PROMETHEUS_BIND_ADDRESS: '127.0.0.1' },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      detached: true,
    });
    try {
      await waitFor('the installed app to answer', async () => ((await httpRequest(appPort, '/')).status === 200 ? true : undefined), 30_000);
      for (let i = 0; i < 5; i++) assert.equal((await httpRequest(appPort, '/hello')).status, 200);
      const total = await waitFor('the requests in the merged scrape', async () => {
        const value = (await scrape(metricsPort)).sum(prometheusName(CATALOGUE.requests));
        return value >= 6 ? value : undefined;
      });
      assert.equal(total, 6, 'the first probe and the five requests, each once');
    } finally {
      await stopGroup(child);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
