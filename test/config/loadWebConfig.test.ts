import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { ConfigError } from '../../src/config/ConfigError';
import { loadConfig } from '../../src/config/loadConfig';
import { loadWebConfig, MAX_BCRYPT_COST } from '../../src/config/loadWebConfig';

let dir = '';
let hash = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ocx-web-config-'));
  writeFileSync(join(dir, 'server.crt'), 'PEM');
  writeFileSync(join(dir, 'server.key'), 'PEM');
  writeFileSync(join(dir, 'ca.crt'), 'PEM');
  hash = bcrypt.hashSync('pw', 4);
});
after(() => rmSync(dir, { recursive: true, force: true }));

function file(text: string, name = 'web.yml'): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function rejected(text: string): ConfigError {
  const path = file(text);
  try {
    loadWebConfig(path);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    assert.ok(error.message.startsWith(`${path}: `), `the message names the file: ${error.message}`);
    return error;
  }
  assert.fail(`accepted:\n${text}`);
}

test('reads the exporter-toolkit format; relative paths are resolved from the file', () => {
  const path = file(
    [
      'tls_server_config:',
      '  cert_file: server.crt',
      '  key_file: server.key',
      '  client_ca_file: ca.crt',
      '  client_auth_type: RequireAndVerifyClientCert',
      '  min_version: TLS13',
      'http_server_config:',
      '  headers:',
      '    Strict-Transport-Security: max-age=31536000',
      'basic_auth_users:',
      `  alice: ${hash}`,
      '',
    ].join('\n'),
  );
  assert.deepEqual(loadWebConfig(path), {
    file: path,
    headers: { 'strict-transport-security': 'max-age=31536000' },
    basicAuthUsers: { alice: hash },
    tls: {
      certFile: join(dir, 'server.crt'),
      keyFile: join(dir, 'server.key'),
      clientCaFile: join(dir, 'ca.crt'),
      clientAuthType: 'RequireAndVerifyClientCert',
      minVersion: 'TLS13',
      maxVersion: 'TLS13',
    },
  });
  assert.deepEqual(loadWebConfig(file('')), { file: join(dir, 'web.yml'), headers: {}, basicAuthUsers: {} }, 'an empty file changes nothing');
});

test('bad files are refused naming the key and what was expected', () => {
  const cases: [string, string, RegExp][] = [
    ['basic_auth_users:\n  alice: secret\n', 'basic_auth_users.alice', /expected a bcrypt hash/],
    [`basic_auth_users:\n  alice: ${bcrypt.hashSync('pw', MAX_BCRYPT_COST + 1).replace(/^\$2b/, '$2y')}\n`, 'basic_auth_users.alice', /expected a bcrypt cost from 4 to 12.*got "cost 13"/],
    [`basic_auth_users:\n  "a:b": ${hash}\n`, 'basic_auth_users.a:b', /without ":"/],
    ['basic_auth_users: [alice]\n', 'basic_auth_users', /expected a mapping/],
    ['tls_server_config:\n  key_file: server.key\n', 'tls_server_config.cert_file', /expected the path of a PEM file/],
    ['tls_server_config:\n  cert_file: missing.crt\n  key_file: server.key\n', 'tls_server_config.cert_file', /expected a readable PEM file, got "missing\.crt/],
    ['tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: Sometimes\n', 'tls_server_config.client_auth_type', /expected one of NoClientCert, RequestClientCert/],
    ['tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n', 'tls_server_config.client_ca_file', /a CA file when client_auth_type is RequireAndVerifyClientCert/],
    ['tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_ca_file: ca.crt\n', 'tls_server_config.client_auth_type', /asks for certificates/],
    ['tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  min_version: TLS13\n  max_version: TLS12\n', 'tls_server_config.max_version', /at or above min_version TLS13/],
    ['tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  cipher_suites: [TLS_AES_128_GCM_SHA256]\n', 'tls_server_config.cipher_suites', /unknown or unsupported key; expected one of cert_file/],
    ['http_server_config:\n  headers:\n    Content-Type: text/html\n', 'http_server_config.headers.Content-Type', /unknown or unsupported key; expected one of Strict-Transport-Security/],
    ['http_server_config:\n  headers:\n    X-Frame-Options: ""\n', 'http_server_config.headers.X-Frame-Options', /non-empty one-line string/],
    ['basic_auth_user:\n  alice: x\n', 'basic_auth_user', /expected one of tls_server_config, http_server_config, basic_auth_users/],
    ['basic_auth_users:\n  alice: [unclosed\n', 'line 3', /expected valid YAML/],
  ];
  for (const [text, keyPath, message] of cases) {
    const error = rejected(text);
    assert.equal(error.keyPath, keyPath, text);
    assert.match(error.message, message, text);
  }
});

test('an unreadable file, and HTTPS set both here and by prometheus.ssl, fail loadConfig at startup', () => {
  const missing = join(dir, 'absent.yml');
  assert.throws(() => loadConfig({ env: { PROMETHEUS_WEB_CONFIG_FILE: missing } }), (error: unknown) => error instanceof ConfigError && error.message.startsWith(`${missing}: expected a readable web configuration file`));
  const tls = file('tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n', 'tls.yml');
  const env = { PROMETHEUS_WEB_CONFIG_FILE: tls, PROMETHEUS_SSL_ENABLED: 'true', PROMETHEUS_SSL_CERTFILE: join(dir, 'server.crt'), PROMETHEUS_SSL_KEYFILE: join(dir, 'server.key') };
  assert.throws(() => loadConfig({ env }), /tls\.yml: tls_server_config: expected HTTPS configured in one place/);
  const config = loadConfig({ env: { PROMETHEUS_WEB_CONFIG_FILE: tls, PROMETHEUS_METRICS_PATH: '/m' } });
  assert.equal(config.prometheus.webConfigFile, tls);
  assert.equal(config.prometheus.metricsPath, '/m');
  assert.throws(() => loadConfig({ env: { PROMETHEUS_METRICS_PATH: '/healthz' } }), /PROMETHEUS_METRICS_PATH|prometheus\.metrics_path/);
  assert.throws(() => loadConfig({ env: { PROMETHEUS_METRICS_PATH: 'metrics' } }), /a path starting with "\/"/);
});
