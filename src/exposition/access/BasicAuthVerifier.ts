import { createHash, timingSafeEqual } from 'node:crypto';
import { BcryptThread } from './BcryptThread';

/**
 * Bcrypt checks in flight at most (they queue on one thread, see
 * {@link BcryptThread}): a flood of wrong passwords must not turn into
 * unbounded CPU or an unbounded queue, so guesses beyond this are refused
 * without a check.
 */
const MAX_CONCURRENT_CHECKS = 2;
/** A hash of a password nobody has, checked for unknown users so their answer takes as long as a wrong password's. */
const UNKNOWN_USER_HASH = '$2b$10$yEHh35Ffz3R8wgYzw5d6MOJqaIFv9kbnF5MnnB5Z3LqWPmpDAhnSu';

/**
 * Checks `Authorization: Basic` credentials against bcrypt hashes
 * (`basic_auth_users`).
 *
 * A scrape every few seconds must not pay a bcrypt run each time, so a user's
 * password is checked with bcrypt once and then remembered as its SHA-256
 * digest: later requests compare digests with `timingSafeEqual`, in
 * constant time. The cache holds one entry per configured user, so it is
 * bounded by the file. Only successes are cached; a wrong password always
 * costs a (bounded, see MAX_CONCURRENT_CHECKS) bcrypt run, off the event loop.
 */
export class BasicAuthVerifier {
  private readonly users: ReadonlyMap<string, string>;
  private readonly bcrypt = new BcryptThread();
  private readonly verified = new Map<string, Buffer>();
  /** Checks running, by user and password digest: scrapers sending the same credentials at once share one. */
  private readonly inFlight = new Map<string, Promise<boolean>>();

  /** @param users user name → bcrypt hash, already validated */
  constructor(users: Readonly<Record<string, string>>) {
    this.users = new Map(Object.entries(users));
  }

  /** True when the `Authorization` header names a configured user with the right password. Never rejects. */
  async verify(authorization: string | undefined): Promise<boolean> {
    const credentials = parseBasic(authorization);
    if (credentials === undefined) return false;
    const { user, password } = credentials;
    const digest = createHash('sha256').update(password, 'utf8').digest();
    const known = this.verified.get(user);
    if (known !== undefined) return timingSafeEqual(known, digest);
    const key = `${digest.toString('hex')}:${user}`;
    const running = this.inFlight.get(key);
    if (running !== undefined) return running;
    if (this.inFlight.size >= MAX_CONCURRENT_CHECKS) return false;
    const check = this.check(user, password, digest).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, check);
    return check;
  }

  private async check(user: string, password: string, digest: Buffer): Promise<boolean> {
    const hash = this.users.get(user);
    const matches = await this.bcrypt.compare(password, hash ?? UNKNOWN_USER_HASH);
    if (!matches || hash === undefined) return false;
    this.verified.set(user, digest);
    return true;
  }

  /** Stop the bcrypt thread, if one runs. */
  close(): Promise<void> {
    return this.bcrypt.close();
  }
}

/** The user and password of a `Basic` Authorization header, or undefined when it is not one. */
export function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*basic\s+([A-Za-z0-9+/=]{1,4096})\s*$/i.exec(header);
  if (match === null) return undefined;
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
