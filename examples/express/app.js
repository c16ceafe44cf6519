// An Express app on a cluster, with no metrics code at all.
//   node --require otel-cluster-exporter/register examples/express/app.js
// Route templates (/orders/:orderId) become the `endpoint` label, not raw paths.
'use strict';
const cluster = require('node:cluster');
const express = require('express');

const port = Number(process.env.PORT || 3000);
const workers = Number(process.env.WORKERS || 2);

if (cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('exit', () => cluster.fork());
  console.log(`express primary ${process.pid}: ${workers} workers on http://127.0.0.1:${port}`);
} else {
  const app = express();
  app.use(express.json());
  const orders = express.Router();
  orders.get('/:orderId', (req, res) => res.json({ id: req.params.orderId }));
  orders.post('/', (req, res) => res.status(201).json({ created: true, items: (req.body.items || []).length }));
  app.use('/orders', orders);
  app.get('/', (req, res) => res.send('orders service\n'));
  app.get('/health', (req, res) => res.send('ok'));
  app.get('/fail', () => {
    throw new Error('handler failed');
  });
  app.listen(port, '127.0.0.1');
}
