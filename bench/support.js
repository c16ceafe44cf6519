'use strict';
// Helpers every bench shares: command-line flags, free ports, medians, and the
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

/** The median (the mean of the middle two for an even count). */
function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Send `message` to a child process and resolve with `reply[key]` of its first reply that has one. */
function ask(child, message, key) {
  return new Promise((resolve) => {
    const onMessage = (reply) => {
      if (reply && reply[key] !== undefined) {
        child.off('message', onMessage);
        resolve(reply[key]);
      }
    };
    child.on('message', onMessage);
    child.send(message);
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

module.exports = { arg, ask, freePort, median, benchOrServer };
