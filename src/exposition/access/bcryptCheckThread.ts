/**
 * The body of the thread {@link ./BcryptThread} starts: bcrypt checks, one
 * message each. Not imported by anything; loaded by file name.
 */
import { parentPort } from 'node:worker_threads';
import bcrypt from 'bcryptjs';

/** One check asked of the thread. */
export interface BcryptRequest {
  readonly id: number;
  readonly password: string;
  readonly hash: string;
}

/** Its answer. */
export interface BcryptReply {
  readonly id: number;
  readonly matches: boolean;
}

parentPort?.on('message', (request: BcryptRequest) => {
  let matches = false;
  try {
    matches = bcrypt.compareSync(request.password, request.hash);
  } catch {
    // A malformed hash matches nothing.
  }
  parentPort?.postMessage({ id: request.id, matches } satisfies BcryptReply);
});
