import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRunArgs, runConfig, UsageError } from '../../src/cli/run';

test('options end at the app: its own arguments are passed on untouched, with or without --', () => {
  const request = parseRunArgs(['-w', '3', '--max-requests=500', '--node-arg', '--max-old-space-size=64', 'app.js', '--port', '8080', '-w', 'x'], '/srv');
  assert.equal(request.app, '/srv/app.js');
  assert.deepEqual(request.appArgs, ['--port', '8080', '-w', 'x']);
  assert.deepEqual(request.overrides, { workers: 3, maxRequests: 500, nodeArgs: ['--max-old-space-size=64'] });
  const dashed = parseRunArgs(['--timeout', '0', '--', '-weird-name.js', 'a'], '/srv');
  assert.equal(dashed.app, '/srv/-weird-name.js');
  assert.deepEqual(dashed.appArgs, ['a']);
  assert.deepEqual(dashed.overrides, { timeout: 0 });
});

test('values are checked with the configuration types and the error names the option', () => {
  const message = (args: string[]): string => {
    try {
      parseRunArgs(args);
    } catch (error) {
      assert.ok(error instanceof UsageError);
      return error.message;
    }
    assert.fail(`${args.join(' ')} was accepted`);
  };
  assert.equal(message(['--workers', '0', 'app.js']), '--workers: expected an integer >= 1, got "0"');
  assert.match(message(['--max-memory', '1.5', 'app.js']), /^--max-memory: expected an integer >= 0/);
  assert.match(message(['--graceful-timeout', 'app.js']), /no app given/, 'the app cannot be swallowed as an option value');
  assert.match(message(['--unknown', 'app.js']), /Unknown option '--unknown'/);
});

test('the command line wins over the environment, which wins over the file', () => {
  const env = { GUNICORN_WORKERS: '4', GUNICORN_MAX_REQUESTS: '100' };
  const config = runConfig(parseRunArgs(['-w', '2', 'app.js']), env);
  assert.equal(config.gunicorn.workers, 2);
  assert.equal(config.gunicorn.maxRequests, 100);
});
