import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { errorMessage } from '../self/errorMessage';

/**
 * Read a PEM file (certificate, key or CA) named by a configuration setting.
 *
 * Asynchronous, for callers that may retry while the application runs (the
 * metrics endpoint re-reads its certificates on every `start()`).
 *
 * @param setting the configuration key the path came from, as the user knows
 *   it, e.g. `PROMETHEUS_SSL_CERTFILE (prometheus.ssl.certfile)`
 * @param path the file to read
 * @throws Error naming `setting` and `path` when the path is empty or the file
 *   cannot be read
 */
export async function readTlsFile(setting: string, path: string): Promise<Buffer> {
  requirePath(setting, path);
  try {
    return await readFile(path);
  } catch (error) {
    throw unreadable(setting, path, error);
  }
}

/**
 * {@link readTlsFile}, synchronously: for startup code that is synchronous
 * itself (creating a Redis client), where a bad path should fail at once.
 *
 * @throws Error naming `setting` and `path` when the path is empty or the file
 *   cannot be read
 */
export function readTlsFileSync(setting: string, path: string): Buffer {
  requirePath(setting, path);
  try {
    return readFileSync(path);
  } catch (error) {
    throw unreadable(setting, path, error);
  }
}

function requirePath(setting: string, path: string): void {
  if (path === '') throw new Error(`${setting}: expected the path of a PEM file, got an empty value`);
}

function unreadable(setting: string, path: string, error: unknown): Error {
  return new Error(`${setting}: cannot read '${path}' (expected a PEM file): ${errorMessage(error)}`);
}
