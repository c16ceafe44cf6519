'use strict';
// What an Express user runs today instead of the preload, as the Express bench's competitors: a
// metrics middleware recording a request counter and a duration histogram (method, route, status)
// when the response finishes, with the route template Express matched (`req.baseUrl` +
// `req.route.path`, as express-prom-bundle names it), in prom-client or in the OpenTelemetry SDK.
const { otelSdkInstruments, promClientInstruments } = require('./competitor-instruments');

/** The matched route template, or one bounded value when no route matched. */
function routeOf(req) {
  const route = req.route;
  if (route !== undefined && typeof route.path === 'string') return req.baseUrl + route.path;
  return '__unmatched__';
}

/** A middleware recording into `instruments` on 'finish'. */
function finishMiddleware(instruments) {
  return (req, res, next) => {
    const start = performance.now();
    res.on('finish', () => instruments.record(req.method, routeOf(req), res.statusCode, (performance.now() - start) / 1000));
    next();
  };
}

/** The middleware of a competitor by name (`prom-client`, `otel-sdk`); undefined for none. */
function metricsMiddleware(name) {
  if (name === undefined) return undefined;
  if (name === 'prom-client') return finishMiddleware(promClientInstruments());
  if (name === 'otel-sdk') return finishMiddleware(otelSdkInstruments());
  throw new Error(`unknown metrics middleware ${name}`);
}

module.exports = { metricsMiddleware };
