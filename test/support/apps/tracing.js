// A real tracing setup, as an app would load it with a second --require: the
// OpenTelemetry Node tracer provider (always sampling) and the http
// instrumentation, which opens a server span around every request handler.
'use strict';
const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');

const provider = new NodeTracerProvider();
provider.register();
// Enabled on construction; spans go to the provider registered above.
new HttpInstrumentation();
