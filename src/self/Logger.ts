/**
 * The package's only voice. Writes one line to stderr, prefixed so users can
 * grep it, and never throws: logging must not become a failure of its own.
 *
 * `warnOnce` keys an outage: the first failure of a kind is logged, repeats are
 * silent until `recovered` is called for the same key, which logs the recovery.
 */
const PREFIX = '[otel-cluster-exporter]';
const openOutages = new Set<string>();

function write(line: string): void {
  try {
    process.stderr.write(`${PREFIX} ${line}\n`);
  } catch {
    // stderr closed: nothing sensible left to do.
  }
}

/** Log a line unconditionally (startup, fatal configuration errors). */
export function info(message: string): void {
  write(message);
}

/** Log the first occurrence of an outage named by `key`; later calls are silent. */
export function warnOnce(key: string, message: string): void {
  if (openOutages.has(key)) return;
  openOutages.add(key);
  write(message);
}

/** Close the outage named by `key`, logging the recovery if it was open. */
export function recovered(key: string, message: string): void {
  if (!openOutages.delete(key)) return;
  write(message);
}
