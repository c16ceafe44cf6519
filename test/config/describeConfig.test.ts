import { test } from 'node:test';
import assert from 'node:assert/strict';
import { load } from 'js-yaml';
import { configEnvironmentVariables, formatEffectiveConfig, maskSecrets, renderConfigReference } from '../../src/config/describeConfig';
import { parseConfig } from '../../src/config/parseConfig';
import { CONFIG_FILE_ENV, CONFIG_KEYS, CONFIG_RULES, envName } from '../../src/config/schema';

const SECRETS = ['redis-pass-1', 'url-pass-2', 'header-tok-3', 'header-tok-4', 'otlp-url-pass-5'];

function configWithSecrets(): ReturnType<typeof parseConfig> {
  return parseConfig({
    yamlText: `
exporter:
  redis:
    password: ${SECRETS[0]}
    url: "redis://app:${SECRETS[1]}@redis:6379/0"
  otel:
    otlp:
      headers: {authorization: "Bearer ${SECRETS[2]}"}
`,
    file: 'c.yml',
    env: {
      OTEL_EXPORTER_OTLP_METRICS_HEADERS: `authorization=Bearer%20${SECRETS[2]},x-api-key=${SECRETS[3]}`,
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `https://user:${SECRETS[4]}@collector/v1/metrics`,
    },
    hostname: 'h',
  });
}

test('no secret appears anywhere in the effective configuration output', () => {
  const config = configWithSecrets();
  const out = formatEffectiveConfig(config);
  for (const secret of SECRETS) assert.ok(!out.includes(secret), `${secret} leaked:\n${out}`);
  const masked = JSON.stringify(maskSecrets(config));
  for (const secret of SECRETS) assert.ok(!masked.includes(secret), `${secret} leaked from maskSecrets`);
  // What is not secret stays readable: the header names, the URL's user and host.
  assert.match(out, /authorization: '\*\*\*'/);
  assert.match(out, /x-api-key: '\*\*\*'/);
  assert.match(out, /redis:\/\/app:\*\*\*@redis:6379\/0/);
  assert.match(out, /password: '\*\*\*'/);
});

test('maskSecrets leaves the configuration itself untouched', () => {
  const config = configWithSecrets();
  maskSecrets(config);
  assert.equal(config.redis.password, SECRETS[0]);
});

test('an unset secret shows as empty, not as ***', () => {
  const out = formatEffectiveConfig(parseConfig({ env: {}, hostname: 'h' }));
  assert.match(out, /password: ''/);
});

test('the effective configuration is YAML in the file layout and parses back to the same configuration', () => {
  const config = parseConfig({
    env: { OTEL_RESOURCE_ATTRIBUTES: 'team=a', REDIS_ENABLED: 'true', OTEL_CLUSTER_EXPORTER_REDIS_SENTINELS: 's1:1,s2:2', OTEL_CLUSTER_EXPORTER_REDIS_SENTINEL_NAME: 'm' },
    hostname: 'h',
  });
  const out = formatEffectiveConfig(config);
  const doc = load(out) as { exporter: { redis: { key_prefix: string } } };
  assert.equal(doc.exporter.redis.key_prefix, 'gunicorn');
  const again = parseConfig({ yamlText: out, file: 'round.yml', env: {}, hostname: 'other-host' });
  const { sourceFile, ...rest } = again;
  assert.equal(sourceFile, 'round.yml');
  assert.deepEqual(rest, config);
});

test('every schema entry appears in the reference table, with its variables and meaning', () => {
  const ref = renderConfigReference();
  for (const key of CONFIG_KEYS) {
    const row = ref.split('\n').find((line) => line.startsWith(`| \`${key.path}\``));
    assert.ok(row !== undefined, `no row for ${key.path}`);
    for (const variable of key.env) assert.ok(row.includes(`\`${envName(variable)}\``), `${envName(variable)} missing from ${key.path}`);
    assert.ok(row.includes(key.description.replace(/\|/g, '\\|')), `description of ${key.path} missing`);
    assert.equal(row.split(/(?<!\\)\|/).length, 7, `row of ${key.path} has 5 cells`);
  }
  for (const rule of CONFIG_RULES) assert.ok(ref.includes(rule.expected), `rule on ${rule.path} missing`);
  assert.ok(ref.includes(CONFIG_FILE_ENV));
});

test('every environment variable is documented once', () => {
  const names = configEnvironmentVariables();
  assert.equal(new Set(names).size, names.length, 'an environment variable feeds two keys');
});
