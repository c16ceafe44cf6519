'use strict';
// Preloaded by bench/express-parts.js (`--compare bench/apps/mechanism-only.js`): the preload's
// per-request mechanism with none of the package's code. It subscribes to the two HTTP channels,
// keeps a state object on each response under a symbol and shadows `write`/`end` on the response
// with shared functions that call the prototype's, as src/worker/HttpInstrumentation.ts does.
// Against plain Express it tells what that way of seeing requests costs by itself.
const diagnosticsChannel = require('node:diagnostics_channel');

const kState = Symbol('bench.requestState');

// Two plain functions, as in src/worker/HttpInstrumentation.ts: one made by a factory would share its
// feedback between the two and read the method by a computed key, which the package does not do.
function countingWrite(chunk, encoding, callback) {
  const state = this[kState];
  if (state !== undefined) state.writes++;
  return Object.getPrototypeOf(this).write.call(this, chunk, encoding, callback);
}

function countingEnd(chunk, encoding, callback) {
  const state = this[kState];
  if (state !== undefined) state.writes++;
  return Object.getPrototypeOf(this).end.call(this, chunk, encoding, callback);
}

diagnosticsChannel.subscribe('http.server.request.start', ({ response }) => {
  response[kState] = { start: performance.now(), writes: 0, seconds: 0 };
  response.write = countingWrite;
  response.end = countingEnd;
});

diagnosticsChannel.subscribe('http.server.response.finish', ({ response }) => {
  const state = response[kState];
  if (state !== undefined) state.seconds = (performance.now() - state.start) / 1000;
});
