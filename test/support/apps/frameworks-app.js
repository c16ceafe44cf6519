// One cluster app, every framework: each worker serves the same small API with
// Express, Fastify, Koa + @koa/router, Koa + koa-router, Hapi, NestJS on the
// Express and on the Fastify adapter, restify, and plain node:http2 (compat and stream
// API), each on its own port (FRAMEWORK_PORTS, JSON). It knows nothing of the
// exporter: no setRequestRoute, no imports from it.
//
// Every framework answers the same routes under its own prefix P (its key in
// FRAMEWORK_PORTS: /express, /koa, ...), mounted the framework's usual way:
//   GET P/users/:id       200 {"id":"<id>"}
//   GET P/users/:id/posts 200 []
//   GET P/boom            500, the handler throws a ValidationError
//   GET P/type            500, the handler throws a TypeError
//   GET /health           200 (excluded from metrics by the test's config)
'use strict';
require('reflect-metadata');
const cluster = require('node:cluster');
const http = require('node:http');

const workers = Number(process.env.APP_WORKERS || 2);
const ports = JSON.parse(process.env.FRAMEWORK_PORTS || '{}');

class ValidationError extends Error {}

if (cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('exit', () => cluster.fork());
} else {
  // Readiness port of the test harness.
  http.createServer((req, res) => res.end('ok')).listen(Number(process.env.APP_PORT));
  const user = (id) => JSON.stringify({ id });
  const quiet = () => undefined;

  if (ports.express) {
    const express = require('express');
    const app = express();
    const api = express.Router();
    api.get('/users/:id', (req, res) => res.type('json').send(user(req.params.id)));
    api.get('/users/:id/posts', (req, res) => res.send('[]'));
    api.get('/boom', () => {
      throw new ValidationError('bad input');
    });
    api.get('/type', () => null.x);
    app.use('/express', api);
    app.get('/health', (req, res) => res.send('ok'));
    // An error middleware that answers 500 itself.
    app.use((error, req, res, next) => (res.headersSent ? next(error) : res.status(500).send('failed')));
    app.listen(ports.express);
  }

  if (ports.fastify) {
    const fastify = require('fastify')();
    fastify.register(
      async (api) => {
        api.get('/users/:id', async (req) => ({ id: req.params.id }));
        api.get('/users/:id/posts', async () => []);
        api.get('/boom', async () => {
          throw new ValidationError('bad input');
        });
        api.get('/type', async () => null.x);
      },
      { prefix: '/fastify' },
    );
    fastify.get('/health', async () => 'ok');
    fastify.listen({ port: ports.fastify, host: '127.0.0.1' });
  }

  if (ports.restify) {
    const restify = require('restify');
    // Thrown errors answer 500 as in the other frameworks, instead of ending the worker.
    const server = restify.createServer({ handleUncaughtExceptions: true });
    server.get('/restify/users/:id', (req, res, next) => {
      res.send({ id: req.params.id });
      next();
    });
    server.get('/restify/users/:id/posts', (req, res, next) => {
      res.send([]);
      next();
    });
    server.get('/restify/boom', (req, res, next) => next(new ValidationError('bad input')));
    // eslint-disable-next-line no-unused-vars
    server.get('/restify/type', (req, res, next) => null.x);
    server.get('/health', (req, res, next) => {
      res.send('ok');
      next();
    });
    server.listen(ports.restify, '127.0.0.1');
  }

  const koaApp = (Router, prefix) => {
    const Koa = require('koa');
    const app = new Koa();
    app.silent = true;
    const router = new Router({ prefix });
    router.get('/users/:id', (ctx) => (ctx.body = { id: ctx.params.id }));
    router.get('/users/:id/posts', (ctx) => (ctx.body = []));
    router.get('/boom', () => {
      throw new ValidationError('bad input');
    });
    router.get('/type', () => null.x);
    const health = new Router();
    health.get('/health', (ctx) => (ctx.body = 'ok'));
    app.use(router.routes()).use(health.routes());
    return app;
  };
  if (ports.koa) {
    const KoaRouter = require('@koa/router');
    koaApp(KoaRouter.Router || KoaRouter, '/koa').listen(ports.koa);
  }
  if (ports.koaRouter) {
    const KoaRouter = require('koa-router');
    koaApp(KoaRouter.Router || KoaRouter, '/koaRouter').listen(ports.koaRouter);
  }

  if (ports.hapi) {
    const Hapi = require('@hapi/hapi');
    const server = Hapi.server({ port: ports.hapi, host: '127.0.0.1', debug: false });
    server.route([
      { method: 'GET', path: '/hapi/users/{id}', handler: (request) => ({ id: request.params.id }) },
      { method: 'GET', path: '/hapi/users/{id}/posts', handler: () => [] },
      {
        method: 'GET',
        path: '/hapi/boom',
        handler: () => {
          throw new ValidationError('bad input');
        },
      },
      { method: 'GET', path: '/hapi/type', handler: () => null.x },
      { method: 'GET', path: '/health', handler: () => 'ok' },
    ]);
    server.start();
  }

  const nestApp = async (adapter, port, prefix) => {
    const { NestFactory } = require('@nestjs/core');
    const { Controller, Get, Module, Param } = require('@nestjs/common');
    class UsersController {
      get(id) {
        return { id };
      }
      posts() {
        return [];
      }
      boom() {
        throw new ValidationError('bad input');
      }
      type() {
        return null.x;
      }
    }
    const method = (decorators, name) => Reflect.decorate(decorators, UsersController.prototype, name, Object.getOwnPropertyDescriptor(UsersController.prototype, name));
    method([Get('users/:id')], 'get');
    Param('id')(UsersController.prototype, 'get', 0);
    method([Get('users/:id/posts')], 'posts');
    method([Get('boom')], 'boom');
    method([Get('type')], 'type');
    const Users = Reflect.decorate([Controller()], UsersController);
    class HealthController {
      health() {
        return 'ok';
      }
    }
    Reflect.decorate([Get('health')], HealthController.prototype, 'health', Object.getOwnPropertyDescriptor(HealthController.prototype, 'health'));
    const Health = Reflect.decorate([Controller()], HealthController);
    const AppModule = Reflect.decorate([Module({ controllers: [Users, Health] })], class AppModule {});
    const app = await NestFactory.create(AppModule, adapter, { logger: false });
    app.setGlobalPrefix(prefix, { exclude: ['health'] });
    await app.listen(port, '127.0.0.1');
  };
  if (ports.nestExpress) {
    const { ExpressAdapter } = require('@nestjs/platform-express');
    nestApp(new ExpressAdapter(), ports.nestExpress, 'nestExpress').catch((error) => console.error('nest-express', error));
  }
  if (ports.nestFastify) {
    const { FastifyAdapter } = require('@nestjs/platform-fastify');
    nestApp(new FastifyAdapter(), ports.nestFastify, 'nestFastify').catch((error) => console.error('nest-fastify', error));
  }

  if (ports.h2) {
    // Cleartext HTTP/2: the compatibility API on one port, the stream API on the next.
    const http2 = require('node:http2');
    const route = (path) => (path === '/health' ? [200, 'ok'] : path.startsWith('/h2/users/') ? [200, user(path.split('/')[3])] : [500, 'failed']);
    http2
      .createServer((req, res) => {
        const [status, body] = route(req.url);
        res.statusCode = status;
        res.end(body);
      })
      .listen(ports.h2);
    const streams = http2.createServer();
    streams.on('stream', (stream, headers) => {
      const [status, body] = route(headers[':path']);
      stream.on('error', quiet);
      stream.respond({ ':status': status });
      stream.end(body);
    });
    streams.listen(ports.h2stream);
  }
}
