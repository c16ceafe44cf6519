import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { parseConfig } from '../../../src/config/parseConfig';
import { BasicAuthVerifier, parseBasic } from '../../../src/exposition/access/BasicAuthVerifier';
import { EndpointAccess } from '../../../src/exposition/access/EndpointAccess';
import { MetricsEndpoint } from '../../../src/exposition/MetricsEndpoint';
import { negotiateFormat } from '../../../src/exposition/negotiateFormat';
import type { RenderedView } from '../../../src/exposition/RenderedView';
import { makeTlsFiles, type TlsFiles } from '../../support/tlsFiles';

interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

function request(port: number, path: string, headers: Record<string, string> = {}, tls?: https.RequestOptions): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const options = { host: '127.0.0.1', port, path, headers, agent: false as const };
    const onResponse = (response: http.IncomingMessage): void => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    };
    const req = tls ? https.request({ ...options, ...tls, servername: 'localhost' }, onResponse) : http.request(options, onResponse);
    req.on('error', reject);
    req.end();
  });
}

let tls: TlsFiles;
const opened: MetricsEndpoint[] = [];

before(() => {
  tls = makeTlsFiles();
});

after(async () => {
  await Promise.all(opened.map((endpoint) => endpoint.close()));
  rmSync(tls.dir, { recursive: true, force: true });
});

/** An endpoint configured the way Exposition configures it, from a web configuration file. */
async function endpointFor(webConfig: string, extraEnv: Record<string, string> = {}): Promise<number> {
  const path = join(tls.dir, `web-${opened.length}.yml`);
  writeFileSync(path, webConfig);
  const config = parseConfig({ env: { PROMETHEUS_WEB_CONFIG_FILE: path, ...extraEnv }, hostname: 'h' });
  const access = EndpointAccess.fromConfig(config);
  const view: RenderedView = { text: (format) => (format === 'openmetrics' ? 'om_up 1\n# EOF\n' : 'up 1\n') };
  const endpoint = new MetricsEndpoint({
    port: 0,
    host: '127.0.0.1',
    metricsPath: config.prometheus.metricsPath,
    ...(access.tls !== undefined ? { tls: access.tls } : {}),
    guard: access,
    negotiate: negotiateFormat,
    render: async () => view,
  });
  opened.push(endpoint);
  return (await endpoint.start()).port;
}

const tlsBlock = (clientAuthType: string, ca = true): string =>
  `tls_server_config:\n  cert_file: ${tls.serverCert}\n  key_file: ${tls.serverKey}\n${ca ? `  client_ca_file: ${tls.ca}\n` : ''}  client_auth_type: ${clientAuthType}\n`;

describe('client certificates', () => {
  const trust = (): https.RequestOptions => ({ ca: readFileSync(tls.ca) });
  const asClient = (name: 'client' | 'stranger'): https.RequestOptions => {
    const [cert, key] = name === 'client' ? [tls.clientCert, tls.clientKey] : [tls.strangerCert, tls.strangerKey];
    return { ...trust(), cert: readFileSync(cert), key: readFileSync(key) };
  };

  test('RequireAndVerifyClientCert: mutual TLS in the handshake', async () => {
    const port = await endpointFor(tlsBlock('RequireAndVerifyClientCert'));
    await assert.rejects(request(port, '/metrics', {}, trust()));
    await assert.rejects(request(port, '/metrics', {}, asClient('stranger')));
    assert.equal((await request(port, '/metrics', {}, asClient('client'))).status, 200);
  });

  test('VerifyClientCertIfGiven: none is fine, a bad one is refused', async () => {
    const port = await endpointFor(tlsBlock('VerifyClientCertIfGiven'));
    assert.equal((await request(port, '/metrics', {}, trust())).status, 200);
    assert.equal((await request(port, '/metrics', {}, asClient('client'))).status, 200);
    const stranger = await request(port, '/metrics', {}, asClient('stranger'));
    assert.equal(stranger.status, 403);
    assert.match(stranger.body, /does not verify/);
  });

  test('RequireAnyClientCert: any certificate, but one', async () => {
    const port = await endpointFor(tlsBlock('RequireAnyClientCert', false));
    assert.equal((await request(port, '/metrics', {}, trust())).status, 403);
    assert.equal((await request(port, '/metrics', {}, asClient('stranger'))).status, 200);
    assert.equal((await request(port, '/healthz', {}, trust())).status, 200, '/healthz is never guarded');
  });
});

describe('basic auth, headers, path and negotiation', () => {
  const password = 'pa:ss wörd';
  const good = { authorization: `Basic ${Buffer.from(`alice:${password}`).toString('base64')}` };
  let port = 0;

  before(async () => {
    port = await endpointFor(`basic_auth_users:\n  alice: ${bcrypt.hashSync(password, 4)}\nhttp_server_config:\n  headers:\n    X-Frame-Options: deny\n`, {
      PROMETHEUS_METRICS_PATH: '/m',
    });
  });

  test('401 with a Basic challenge without or with wrong credentials; 200 with the right ones', async () => {
    const missing = await request(port, '/m');
    assert.equal(missing.status, 401);
    assert.match(String(missing.headers['www-authenticate']), /^Basic /);
    assert.equal((await request(port, '/m', { authorization: `Basic ${Buffer.from('alice:nope').toString('base64')}` })).status, 401);
    const ok = await request(port, '/m', good);
    assert.equal(ok.status, 200);
    assert.equal(ok.body, 'up 1\n');
  });

  test('the configured headers are on every answer; only the configured path serves metrics', async () => {
    for (const [path, status] of [
      ['/m', 200],
      ['/healthz', 200],
      ['/metrics', 404],
    ] as const) {
      const reply = await request(port, path, good);
      assert.equal(reply.status, status, path);
      assert.equal(reply.headers['x-frame-options'], 'deny', path);
    }
    assert.equal((await request(port, '/healthz')).status, 200, 'no credentials needed for /healthz');
  });

  test('Accept picks the format and the content type; the answer varies on Accept', async () => {
    const om = await request(port, '/m', { ...good, accept: 'application/openmetrics-text;version=1.0.0,text/plain;q=0.5' });
    assert.equal(om.headers['content-type'], 'application/openmetrics-text; version=1.0.0; charset=utf-8');
    assert.equal(om.body, 'om_up 1\n# EOF\n');
    assert.equal(om.headers['vary'], 'Accept, Accept-Encoding');
    const classic = await request(port, '/m', { ...good, accept: 'text/plain' });
    assert.equal(classic.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  });
});

describe('BasicAuthVerifier', () => {
  test('a verified password is remembered: it passes even while every bcrypt slot is busy', async () => {
    const verifier = new BasicAuthVerifier({ alice: bcrypt.hashSync('right', 6), bob: bcrypt.hashSync('other', 6) });
    const header = (user: string, pw: string): string => `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}`;
    assert.equal(await verifier.verify(header('alice', 'right')), true);
    // Two wrong guesses occupy both bcrypt slots; a third guess is refused unchecked.
    const guesses = [verifier.verify(header('bob', 'x')), verifier.verify(header('bob', 'y'))];
    assert.equal(await verifier.verify(header('bob', 'other')), false, 'no bcrypt slot free: refused, not queued');
    assert.equal(await verifier.verify(header('alice', 'right')), true, 'the cached credential needs no bcrypt run');
    assert.equal(await verifier.verify(header('alice', 'wrong')), false);
    assert.deepEqual(await Promise.all(guesses), [false, false]);
    assert.equal(await verifier.verify(header('bob', 'other')), true, 'slots free again');
    await verifier.close();
  });

  test('scrapers sending the same credentials at once share one check instead of being refused', async () => {
    const verifier = new BasicAuthVerifier({ alice: bcrypt.hashSync('right', 6) });
    const header = `Basic ${Buffer.from('alice:right').toString('base64')}`;
    assert.deepEqual(await Promise.all(Array.from({ length: 5 }, () => verifier.verify(header))), [true, true, true, true, true]);
    await verifier.close();
  });

  test('parses Basic headers strictly', () => {
    assert.deepEqual(parseBasic(`basic ${Buffer.from('u:p:q').toString('base64')}`), { user: 'u', password: 'p:q' });
    assert.equal(parseBasic(undefined), undefined);
    assert.equal(parseBasic('Bearer x'), undefined);
    assert.equal(parseBasic(`Basic ${Buffer.from('no-colon').toString('base64')}`), undefined);
    assert.equal(parseBasic(`Basic ${'A'.repeat(10_000)}`), undefined);
  });
});
