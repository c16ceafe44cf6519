import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EXIT_REASONS, classifyExit } from '../../src/primary/classifyExit';

test('exits map onto the documented reason and restart_type vocabulary', () => {
  assert.deepEqual(classifyExit({ code: 0, signal: null, exitedAfterDisconnect: false }), { reason: 'clean_exit', restartType: 'unplanned' });
  assert.deepEqual(classifyExit({ code: 1, signal: null, exitedAfterDisconnect: false }), { reason: 'crash', restartType: 'unplanned' });
  assert.deepEqual(classifyExit({ code: null, signal: 'SIGKILL', exitedAfterDisconnect: false }), { reason: 'sigkill', restartType: 'unplanned' });
  assert.deepEqual(classifyExit({ code: null, signal: 'SIGTERM', exitedAfterDisconnect: true }), { reason: 'sigterm', restartType: 'planned' });
  assert.deepEqual(classifyExit({ code: 0, signal: null, exitedAfterDisconnect: true }), { reason: 'clean_exit', restartType: 'planned' });
});

test('any signal outside the named few folds into signal_other, so the label stays bounded', () => {
  for (const signal of ['SIGUSR2', 'SIGBUS', 'SIGXCPU', 'SIGWHATEVER']) {
    assert.equal(classifyExit({ code: null, signal, exitedAfterDisconnect: false }).reason, 'signal_other');
  }
  const seen = new Set<string>();
  for (const signal of ['SIGKILL', 'SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGABRT', 'SIGSEGV', 'SIGUSR1', null]) {
    for (const code of [0, 1, 137, null]) seen.add(classifyExit({ code, signal, exitedAfterDisconnect: false }).reason);
  }
  for (const reason of seen) assert.ok((EXIT_REASONS as readonly string[]).includes(reason), reason);
});
