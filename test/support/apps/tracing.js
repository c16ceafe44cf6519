// A real tracing setup, as an app would load it with a second --require: an
// OpenTelemetry tracer provider (its default sampler samples every new trace,
// no exporter), AsyncLocalStorage context propagation, and the http
// instrumentation, which opens a server span around every request handler.
// Packages of the 2.x and the 3.x line alike (npm test and .ci/node24.sh).
'use strict';
const { context, trace } = require('@opentelemetry/api');
const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
const { TracerProvider } = require('@opentelemetry/sdk-trace');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
trace.setGlobalTracerProvider(new TracerProvider());
// Enabled on construction; spans go to the provider set above.
new HttpInstrumentation();
