'use strict';
// The Express app the HTTP benches load at /api/users/42: a router mounted at /api with one
// route that takes a parameter (what route templates are read from).

/** A new Express app (Express required here, after any preload). */
function expressApp() {
  const express = require('express');
  const app = express();
  const api = express.Router();
  api.get('/users/:id', (req, res) => res.send(`user ${req.params.id}`));
  app.use('/api', api);
  return app;
}

module.exports = { expressApp };
