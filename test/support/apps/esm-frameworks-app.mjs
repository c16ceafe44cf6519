// An ES-module app (single process) with Koa + @koa/router, Hapi and Express,
// all imported with `import`: the module load hooks must see them too.
// APP_PORT answers the harness; FRAMEWORK_PORTS (JSON) names the others.
import http from 'node:http';
import Koa from 'koa';
import Router from '@koa/router';
import Hapi from '@hapi/hapi';
import express from 'express';

const ports = JSON.parse(process.env.FRAMEWORK_PORTS);
class ValidationError extends Error {}

http.createServer((req, res) => res.end('ok')).listen(Number(process.env.APP_PORT));

const koa = new Koa();
koa.silent = true;
const router = new (Router.Router ?? Router)({ prefix: '/koa' });
router.get('/users/:id', (ctx) => (ctx.body = { id: ctx.params.id }));
router.get('/boom', () => {
  throw new ValidationError('bad');
});
koa.use(router.routes());
koa.listen(ports.koa);

const hapi = Hapi.server({ port: ports.hapi, host: '127.0.0.1', debug: false });
hapi.route([
  { method: 'GET', path: '/hapi/users/{id}', handler: (request) => ({ id: request.params.id }) },
  {
    method: 'GET',
    path: '/hapi/boom',
    handler: () => {
      throw new ValidationError('bad');
    },
  },
]);
await hapi.start();

const app = express();
const api = express.Router();
api.get('/users/:id', (req, res) => res.json({ id: req.params.id }));
api.get('/boom', () => {
  throw new ValidationError('bad');
});
app.use('/express', api);
app.listen(ports.express);
