'use strict';
// Helpers every bench shares: command-line flags, free ports, means, medians and quantiles, child exits, and the
// "one file is both the bench and, with --server, each variant's child" entry.
const net = require('node:net');

/** The value after `--name` on the command line, or `fallback`. */
function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
}

/** A free loopback port (the OS picks; released before returning). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The arithmetic mean. */
function mean(values) {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** The `q` quantile of `values` (linear between the closest ranks). */
function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(sorted.length - 1, below + 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
}

/** Resolve true once `child` has exited (at once if it already has), or false after `ms`. */
function waitExit(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** The median (the mean of the middle two for an even count). */
function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Send `message` to a child process and resolve with `reply[key]` of its first
 * reply that has one; reject if the child exits first (a bench must fail, not
 * wait forever, when a server it measures dies).
 */
function ask(child, message, key) {
  return new Promise((resolve, reject) => {
    const onMessage = (reply) => {
      if (reply && reply[key] !== undefined) {
        settle();
        resolve(reply[key]);
      }
    };
    const onExit = (code, signal) => {
      settle();
      reject(new Error(`the child exited (${signal ?? code}) before answering ${JSON.stringify(message)}`));
    };
    const settle = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    if (!child.connected) {
      reject(new Error(`the child is gone: cannot ask ${JSON.stringify(message)}`));
      return;
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
    // With a callback a closed channel is an error here, not an 'error' event that kills the bench.
    child.send(message, (error) => {
      if (error === null) return;
      settle();
      reject(error);
    });
  });
}

/**
 * Spawn a bench server (stdio: ignored, ignored, piped stderr, IPC) and wait
 * for its `{ port }` message: resolves `{ child, port, stderr() }`; rejects
 * with its stderr when it exits first or sends no port within 15 s.
 */
function spawnServer(label, command, args, options) {
  const { spawn } = require('node:child_process');
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label}: no port after 15 s\n${stderr}`)), 15000);
    const onMessage = (message) => {
      if (!message || typeof message.port !== 'number') return;
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve({ child, port: message.port, stderr: () => stderr });
    };
    const onExit = (code) => {
      clearTimeout(timer);
      reject(new Error(`${label}: exited with ${code}\n${stderr}`));
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Run `runServer(kind)` when started with `--server kind`, else the bench's `main()`. */
function benchOrServer(runServer, main) {
  const kind = arg('server', undefined);
  if (kind !== undefined) {
    runServer(kind);
    return;
  }
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}

module.exports = { arg, ask, freePort, mean, median, quantile, benchOrServer, spawnServer, waitExit };
