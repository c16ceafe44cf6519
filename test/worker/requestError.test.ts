import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorClassOf, stashError, stashedError } from '../../src/worker/requestError';

test('the class name of an error: its constructor, even without a name of its own; else its name', () => {
  class ValidationError extends Error {}
  class NamedError extends Error {
    override name = 'Custom';
  }
  assert.equal(errorClassOf(new TypeError('x')), 'TypeError');
  assert.equal(errorClassOf(new ValidationError('x')), 'ValidationError');
  assert.equal(errorClassOf(new NamedError('x')), 'NamedError');
  assert.equal(errorClassOf({ name: 'PlainObjectError' }), 'PlainObjectError');
  assert.equal(errorClassOf(Object.create(null)), undefined);
  assert.equal(errorClassOf('a string'), undefined);
  assert.equal(errorClassOf(undefined), undefined);
});

test('the first error stashed for a request stays; an HTTP/2 compatibility request also hands it to its stream', () => {
  const stream = {};
  const req = { stream };
  const first = new TypeError('first');
  stashError(req, first);
  stashError(req, new Error('error handler failed too'));
  assert.equal(stashedError(req), first);
  assert.equal(stashedError(stream), first);
  stashError(req, undefined);
  assert.equal(stashedError(req), first);
});
