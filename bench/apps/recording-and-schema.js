'use strict';
// Preloaded by bench/express-parts.js (`--compare bench/apps/recording-and-schema.js`): what
// bench/apps/recording-only.js starts, with the configuration schema (src/config/schema.ts and the
// validation library) loaded first, as a serving process loads it, and nothing parsed. Against
// recording-only it tells what merely holding the schema in the app's heap costs a request.
const path = require('node:path');

require(path.join(__dirname, '..', '..', 'dist', 'config', 'schema.js'));
require('./recording-only.js');
