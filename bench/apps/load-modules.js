'use strict';
// Preloaded by bench/express-parts.js: every module of the package loaded (dist/index.js and what it
// requires), nothing started. Against plain Express it tells what loading the code costs a request.
require('../../dist/index.js');
