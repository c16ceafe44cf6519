'use strict';
// Preloaded by bench/express-parts.js (`--compare bench/apps/recording-only.js`): the package's
// per-request recording alone, built from dist/ — the HTTP instrumentation with its accumulator and
// route normaliser, and the framework route hooks — without the configuration, the store, the
// OpenTelemetry pipeline, the flush, the runtime metrics or the exposition. (The hooks still load
// require-in-the-middle, and their OpenTelemetry-SDK hook the OpenTelemetry API, core and resources
// packages.) Against plain Express it tells what recording costs; against `register` what
// everything else the preload starts costs.
const path = require('node:path');

const DIST = path.join(__dirname, '..', '..', 'dist');
const { DEFAULT_DURATION_BUCKETS, DEFAULT_SIZE_BUCKETS } = require(path.join(DIST, 'catalogue', 'MetricCatalogue.js'));
const { HttpInstrumentation } = require(path.join(DIST, 'worker', 'HttpInstrumentation.js'));
const { PathExclusion } = require(path.join(DIST, 'worker', 'PathExclusion.js'));
const { RequestAccumulator } = require(path.join(DIST, 'worker', 'RequestAccumulator.js'));
const { RouteNormaliser } = require(path.join(DIST, 'worker', 'RouteNormaliser.js'));

const accumulator = new RequestAccumulator({ durationBuckets: DEFAULT_DURATION_BUCKETS, sizeBuckets: DEFAULT_SIZE_BUCKETS, maxSeries: 1000 });
new HttpInstrumentation({ accumulator, normaliser: new RouteNormaliser({ maxEndpoints: 100 }), exclusion: new PathExclusion([]) }).enable();
require(path.join(DIST, 'hooks', 'installFrameworkHooks.js')).installFrameworkHooks();
