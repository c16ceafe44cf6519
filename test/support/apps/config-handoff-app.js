// A cluster app whose primary forks its workers one after another, changing the
// exporter's configuration file in between (as an operator editing it before a
// rolling reload would), and prints what each worker found as one JSON line.
'use strict';
const cluster = require('node:cluster');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

const file = process.env.OTEL_CLUSTER_EXPORTER_CONFIG;
const yaml = (maxEndpoints) => `exporter:\n  metrics:\n    max_endpoints: ${maxEndpoints}\n`;

if (cluster.isPrimary) {
  const reports = [];
  const steps = [
    { yaml: yaml(11) },
    // The file changed: the next worker must get the new value.
    { yaml: yaml(12) },
    // The app's own variables for one fork win over the file, as without a primary.
    { yaml: yaml(12), env: { OTEL_CLUSTER_EXPORTER_MAX_ENDPOINTS: '13' } },
    // Broken now: the worker stops over it, as it did when it read the file itself.
    { yaml: yaml('"many"') },
  ];
  const next = () => {
    const step = steps.shift();
    if (step === undefined) {
      console.log(JSON.stringify({ primaryLoadedValibot: Object.keys(require.cache).some((f) => f.includes('valibot')), reports }));
      return;
    }
    writeFileSync(file, step.yaml);
    const worker = cluster.fork(step.env);
    worker.on('message', (message) => reports.push(message));
    worker.on('exit', (code) => {
      reports.push({ exit: code });
      next();
    });
  };
  next();
} else {
  const { start } = require(join(process.env.PACKAGE_ROOT, 'dist', 'index.js'));
  const { role, config } = start();
  process.send({
    role,
    maxEndpoints: config.metrics.maxEndpoints,
    sourceFile: config.sourceFile,
    loadedValibot: Object.keys(require.cache).some((f) => f.includes('valibot')),
    loadedSchema: Object.keys(require.cache).some((f) => f.endsWith(join('config', 'schema.js'))),
    handoffVisible: Object.keys(process.env).some((name) => name === 'OTEL_CLUSTER_EXPORTER_WORKER_CONFIG'),
  });
  cluster.worker.disconnect();
}
