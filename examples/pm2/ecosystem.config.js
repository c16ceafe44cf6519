// PM2: the app in cluster mode under the preload, plus `otel-cluster-exporter serve`
// reading the same embedded store directory and serving the merged metrics.
//
//   npm install otel-cluster-exporter @opentelemetry/api
//   pm2 start ecosystem.config.js
//   curl http://127.0.0.1:9091/metrics
//
// PM2's cluster-mode master is PM2 itself, which does not run the preload, so
// the instances only record and write snapshots; `serve` is the one endpoint.
'use strict';

/** Where the instances write their snapshots and `serve` reads them: the same path for both. */
const STORE_DIR = '/tmp/otel-cluster-exporter/web';
/** Service name and instance id: the same for both, so `serve` names the series consistently. */
const SERVICE = { OTEL_SERVICE_NAME: 'web' };

module.exports = {
  apps: [
    {
      name: 'web',
      script: './app.js',
      exec_mode: 'cluster',
      instances: 4,
      // Every instance (a cluster worker of PM2) loads the instrumentation before the app.
      node_args: '--require otel-cluster-exporter/register',
      // A bad configuration exits with 78 (EX_CONFIG) before the app serves: stop instead of restart-looping.
      stop_exit_codes: [78],
      env: {
        PORT: '3000',
        PROMETHEUS_MULTIPROC_DIR: STORE_DIR,
        ...SERVICE,
      },
    },
    {
      name: 'web-metrics',
      // The package's command; `serve` reads the directory above and never records traffic.
      script: './node_modules/otel-cluster-exporter/dist/cli/main.js',
      args: 'serve',
      stop_exit_codes: [78],
      exec_mode: 'fork',
      instances: 1,
      env: {
        PROMETHEUS_MULTIPROC_DIR: STORE_DIR,
        PROMETHEUS_METRICS_PORT: '9091',
        PROMETHEUS_BIND_ADDRESS: '0.0.0.0',
        ...SERVICE,
      },
    },
  ],
};
