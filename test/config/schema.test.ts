import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as v from 'valibot';
import { parseConfig } from '../../src/config/parseConfig';
import { CONFIG_KEYS, fieldPath } from '../../src/config/schema';

function leafPaths(value: unknown, prefix: string[] = []): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [prefix.join('.')];
  // Map-valued keys are leaves (their own keys are data, not configuration).
  if (prefix.join('.') === 'otel.resourceAttributes' || prefix.join('.') === 'otel.otlp.headers') return [prefix.join('.')];
  return Object.entries(value).flatMap(([k, v]) => leafPaths(v, [...prefix, k]));
}

test('the schema covers exactly the fields of ExporterConfig', () => {
  const config = parseConfig({ env: {}, hostname: 'h' });
  const fromConfig = leafPaths(config).sort();
  const fromSchema = CONFIG_KEYS.map((k) => fieldPath(k.path).join('.')).sort();
  assert.deepEqual(fromConfig, fromSchema);
});

test('every static default is valid for its own type', () => {
  for (const key of CONFIG_KEYS) {
    if (typeof key.default === 'function') continue;
    const parsed = v.safeParse(key.schema, key.default);
    assert.ok(parsed.success, `default of ${key.path} is rejected by its type`);
    assert.deepEqual(parsed.output, key.default, key.path);
  }
});

test('paths are unique, snake_case, and every key has an environment variable and a description', () => {
  const paths = CONFIG_KEYS.flatMap((k) => [k.path, ...(k.aliases ?? [])]);
  assert.equal(new Set(paths).size, paths.length);
  for (const key of CONFIG_KEYS) {
    assert.match(key.path, /^[a-z]+(\.[a-z][a-z0-9_]*)+$/, key.path);
    assert.ok(key.env.length > 0, `${key.path} has no environment variable`);
    assert.ok(key.description.length > 10, `${key.path} has no description`);
  }
});
