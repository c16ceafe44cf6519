import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Socket } from 'node:net';
import express from 'express';
import { readUncached } from '../../src/worker/readUncached';

test('reads what a property access reads: own values, inherited getters (with the object as receiver), absent names', () => {
  // An Express response: its prototype is the app's, and `errored` is a getter far up the chain.
  const app = express();
  const req = new http.IncomingMessage(new Socket());
  const res = new http.ServerResponse(req);
  Object.setPrototypeOf(res, app.response);
  res.statusCode = 418;
  assert.equal(readUncached(res, 'statusCode'), 418);
  assert.equal(readUncached(res, 'errored'), res.errored);
  res.destroy(new Error('gone'));
  assert.equal((readUncached(res, 'errored') as Error).message, 'gone');
  assert.equal(readUncached(res, 'no-such-property'), undefined);
});
