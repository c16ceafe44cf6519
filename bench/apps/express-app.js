'use strict';
// The Express app the HTTP benches load at /api/users/42: a router mounted at /api with one
// route that takes a parameter (what route templates are read from).

/**
 * A new Express app (Express required here, after any preload).
 * @param {{ before?: import('express').RequestHandler }} [options] a middleware run before the
 *   routes (how the competitors' metrics middlewares are added)
 */
function expressApp(options = {}) {
  const express = require('express');
  const app = express();
  if (options.before !== undefined) app.use(options.before);
  const api = express.Router();
  api.get('/users/:id', (req, res) => res.send(`user ${req.params.id}`));
  app.use('/api', api);
  return app;
}

module.exports = { expressApp };
