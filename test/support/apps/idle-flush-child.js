// One instrumented process, driven flush by flush (takeSnapshot), printing what
// each snapshot shows as one JSON line. Run with --expose-gc; argv[2] is the
// compiled source root, argv[3] a store directory.
'use strict';
const { join } = require('node:path');
const src = process.argv[2];
const { InstrumentedProcess } = require(join(src, 'runtime', 'InstrumentedProcess.js'));
const { loadConfig } = require(join(src, 'config', 'loadConfig.js'));
const { openStore, buildResource } = {
  ...require(join(src, 'runtime', 'storeFactory.js')),
  ...require(join(src, 'runtime', 'Runtime.js')),
};
const { SelfMetrics } = require(join(src, 'self', 'SelfMetrics.js'));
const { CATALOGUE } = require(join(src, 'catalogue', 'MetricCatalogue.js'));

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const config = loadConfig({ env: { OTEL_CLUSTER_EXPORTER_QUIET: 'true' } });
  const selfMetrics = new SelfMetrics();
  const store = openStore(config, process.argv[3], selfMetrics, 'instance', false);
  const instrumented = InstrumentedProcess.start({ config, store, resource: buildResource(config), selfMetrics, slot: 0, recordHttp: true });
  const own = (snapshot) => snapshot.metrics.filter((metric) => !metric.name.startsWith('otel_cluster_exporter_'));
  const gcCount = (snapshot) => {
    const metric = snapshot.metrics.find((m) => m.name === CATALOGUE.runtimeGcDuration.name);
    return metric === undefined ? 0 : metric.points.reduce((n, point) => n + point.value.count, 0);
  };
  const report = {};
  await sleep(50);
  const first = await instrumented.reader.takeSnapshot();
  const second = await instrumented.reader.takeSnapshot();
  // Nothing happened in between: the very same metric objects, no SDK collection.
  report.idleReused = own(first).length > 0 && own(second).every((metric, i) => metric === own(first)[i]);

  global.gc();
  await sleep(50);
  const afterGc = await instrumented.reader.takeSnapshot();
  report.gcSeen = gcCount(afterGc) > gcCount(second);

  // The app's instruments through the global API: every flush collects from now on.
  const { metrics } = require('@opentelemetry/api');
  const meter = metrics.getMeter('app');
  const things = meter.createCounter('app_things');
  let observed = 0;
  meter.createObservableGauge('app_level').addCallback((result) => result.observe(++observed));
  things.add(3);
  const value = (snapshot, name) => snapshot.metrics.find((m) => m.name === name)?.points[0]?.value;
  const a = await instrumented.reader.takeSnapshot();
  things.add(2);
  const b = await instrumented.reader.takeSnapshot();
  const c = await instrumented.reader.takeSnapshot();
  report.appCounter = [value(a, 'app_things'), value(b, 'app_things'), value(c, 'app_things')];
  report.appGauge = [value(a, 'app_level'), value(b, 'app_level'), value(c, 'app_level')];
  await instrumented.shutdown();
  await store.close();
  console.log(JSON.stringify(report));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
