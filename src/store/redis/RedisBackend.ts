import { randomBytes } from 'node:crypto';
import type { RedisConfig, ServeScope } from '../../config/Config';
import { redisKeyPrefixProblem } from '../../config/schema';
import { errorMessage } from '../../self/errorMessage';
import { recovered, warnOnce } from '../../self/Logger';
import type { SelfMetrics } from '../../self/SelfMetrics';
import { retiredKey } from '../LifeBackend';
import type { LifeBackend, LifeRef, ListedLife, RetiredRecord, ScopeRead, WriteReply } from '../LifeBackend';
import { createRedisClient, DEFAULT_REDIS_TIMINGS, type RedisTimings } from './createRedisClient';
import type { RedisClient } from './LuaScript';
import { RedisKeys } from './RedisKeys';
import { CLAIM_SCRIPT, RELEASE_SCRIPT, RENEW_SCRIPT, RESTORE_CLAIM_SCRIPT, SET_RETIRED_SCRIPT, WRITE_SCRIPT } from './scripts';

/** Options of {@link RedisBackend.fromConfig} beyond the configuration file. */
export interface RedisBackendOptions {
  /** Where background failures (registry, pruning) are counted. */
  readonly selfMetrics?: SelfMetrics;
  /** What {@link RedisBackend.read} returns: this instance (default), its service, or everything under the prefix. */
  readonly scope?: ServeScope;
  /** How long a life counts as live after its last write or renewal, ms. Default 5000: five flushes at the longest interval. */
  readonly leaseMs?: number;
  /** Connection timeouts; the defaults reject within about a second when Redis is away. */
  readonly timings?: RedisTimings;
}

/** Everything a {@link RedisBackend} needs besides its connection. */
export interface RedisBackendSettings {
  readonly keyPrefix: string;
  /** Key TTL in ms, refreshed by every write and renewal (heartbeat); 0 keeps keys forever. */
  readonly ttlMs: number;
  /** The service and instance this process belongs to (the `instance` scope). */
  readonly self: { readonly service: string; readonly instance: string };
  readonly scope: ServeScope;
  readonly leaseMs: number;
  readonly selfMetrics?: SelfMetrics;
}

const DEFAULT_LEASE_MS = 5_000;
const HOUR_MS = 3_600_000;
/** Numbers backends so each one logs its own connection outage once. */
let backendSequence = 0;

/**
 * The shared store's primitives on Redis (ioredis): many processes of many
 * hosts write, any exporter reads. Key layout: {@link RedisKeys}. One
 * `EVALSHA` per flush (write or renewal); a read is two transactions per
 * instance whatever its size, and transfers only snapshots whose version
 * changed. Leases are `PX` keys, so liveness follows Redis's clock, not the
 * hosts'. The client keeps no offline queue and short timeouts: while Redis is
 * away calls reject at once and nothing piles up.
 */
export class RedisBackend implements LifeBackend {
  readonly kind = 'redis';
  readonly leaseMs: number;
  readonly expiresAfterMs: number;
  private readonly keys: RedisKeys;
  private readonly registryRefreshedAt = new Map<string, number>();
  /** Scopes read before, by when: an emptied registry must not hide instances whose data readers still hold. */
  private readonly seenScopes = new Map<string, number>();
  private readonly tombstoneTtlMs: number;
  private readonly registryRefreshMs: number;
  private readonly outageKey = `store-redis-connection-${++backendSequence}`;
  /**
   * Settles on the first 'ready', the first connection error, or after the
   * connect timeout. Calls made while the very first connection is being set up
   * wait for it (briefly, once); after that nothing ever waits on a reconnect.
   */
  private firstConnection: Promise<void> | undefined;

  /**
   * Open a backend from configuration. Never connects synchronously and never
   * throws because Redis is down; throws only for bad configuration (a key
   * prefix a Redis Cluster cannot route, an unreadable TLS file).
   */
  static fromConfig(config: RedisConfig, self: { service: string; instance: string }, options: RedisBackendOptions = {}): RedisBackend {
    // The schema refuses such a prefix at startup; this guards backends opened from code.
    const prefixProblem = redisKeyPrefixProblem(config);
    if (prefixProblem !== undefined) throw new Error(`redis.key_prefix: expected ${prefixProblem}, got "${config.keyPrefix}"`);
    const ttlMs = config.ttlDisabled ? 0 : Math.round(config.ttlSeconds * 1000);
    const leaseMs = Math.max(1, Math.min(options.leaseMs ?? DEFAULT_LEASE_MS, ttlMs > 0 ? ttlMs : Infinity));
    const client = createRedisClient(config, options.timings);
    const settings: RedisBackendSettings = {
      keyPrefix: config.keyPrefix,
      ttlMs,
      self: { service: self.service, instance: self.instance },
      scope: options.scope ?? 'instance',
      leaseMs,
      ...(options.selfMetrics ? { selfMetrics: options.selfMetrics } : {}),
    };
    return new RedisBackend(client, settings, options.timings?.connectTimeoutMs);
  }

  /** Wrap an ioredis client (standalone, Sentinel or cluster) created with no offline queue. */
  constructor(
    private readonly client: RedisClient,
    readonly settings: RedisBackendSettings,
    connectTimeoutMs: number = DEFAULT_REDIS_TIMINGS.connectTimeoutMs,
  ) {
    this.keys = new RedisKeys(settings.keyPrefix);
    this.leaseMs = settings.leaseMs;
    this.expiresAfterMs = settings.ttlMs;
    this.tombstoneTtlMs = settings.ttlMs > 0 ? Math.max(2 * settings.ttlMs, HOUR_MS) : 24 * HOUR_MS;
    this.registryRefreshMs = settings.ttlMs > 0 ? Math.min(30_000, Math.max(1, Math.floor(settings.ttlMs / 3))) : 30_000;
    this.firstConnection = this.watchFirstConnection(connectTimeoutMs);
    // An 'error' event without a listener would crash the host app.
    client.on('error', (error: unknown) => {
      warnOnce(this.outageKey, `Redis store unreachable, metrics are kept in memory and written when it returns: ${errorMessage(error)}`);
    });
    client.on('node error', () => undefined);
    client.on('ready', () => recovered(this.outageKey, 'Redis store reachable again'));
    unrefConnections(client);
    client.connect().catch(() => undefined); // reconnects on its own (retryStrategy)
  }

  /** The scope (instance member) a process of this service instance writes under. */
  scopeOf(identity: { readonly service: string; readonly instance: string }): string {
    return this.keys.instanceMember(identity.service, identity.instance);
  }

  async write(life: LifeRef, text: string, version: number): Promise<WriteReply> {
    await this.connected();
    const k = this.lifeKeys(life);
    const reply = await WRITE_SCRIPT.run(this.client, [k.life, k.lease, k.index, k.retired, k.versions], [text, version, this.settings.ttlMs, this.leaseMs, k.member, Date.now()]);
    const fenced = fencedText(reply);
    if (fenced !== undefined) return { fenced };
    if (!Array.isArray(reply) || typeof reply[0] !== 'number') throw new Error(`redis store: unexpected reply to the write script: ${String(reply)}`);
    await this.announce(life.scope, reply[0] === 1);
    return 'written';
  }

  async renew(life: LifeRef): Promise<WriteReply | 'missing'> {
    await this.connected();
    const k = this.lifeKeys(life);
    const reply = await RENEW_SCRIPT.run(this.client, [k.life, k.lease, k.index, k.retired, k.versions], [this.settings.ttlMs, this.leaseMs, Date.now()]);
    const fenced = fencedText(reply);
    if (fenced !== undefined) return { fenced };
    if (Array.isArray(reply) && reply[0] === 0) return 'missing';
    await this.announce(life.scope, false);
    return 'written';
  }

  async read(known: (key: string, version: string) => boolean): Promise<ScopeRead[]> {
    await this.connected();
    const now = Date.now();
    const scopes = await this.scopesInReach(now);
    return Promise.all(scopes.map((scope) => this.readScope(scope, known)));
  }

  async claim(life: LifeRef, expiredOnly: boolean): Promise<{ readonly text: string } | 'live' | 'gone'> {
    await this.connected();
    const k = this.lifeKeys(life);
    const reply = await CLAIM_SCRIPT.run(this.client, [k.life, k.lease], [expiredOnly ? '1' : '0']);
    if (!Array.isArray(reply)) throw new Error(`redis store: unexpected reply to the claim script: ${String(reply)}`);
    if (reply[0] === 2) return 'live';
    if (reply[0] === 1 && typeof reply[1] === 'string' && reply[1] !== '') return { text: reply[1] };
    return 'gone';
  }

  async restoreClaim(life: LifeRef, text: string, version: number): Promise<boolean> {
    await this.connected();
    const k = this.lifeKeys(life);
    const reply = await RESTORE_CLAIM_SCRIPT.run(this.client, [k.life, k.index], [text, version, k.member, this.settings.ttlMs]);
    return reply === 1;
  }

  async release(life: LifeRef, keepTombstone: boolean): Promise<void> {
    await this.connected();
    const k = this.lifeKeys(life);
    await RELEASE_SCRIPT.run(this.client, [k.life, k.lease, k.index], [k.member, keepTombstone ? '1' : '0', this.tombstoneTtlMs]);
  }

  async compareAndSetRetired(scope: string, slot: number, expected: string | undefined, text: string): Promise<string | undefined> {
    await this.connected();
    const version = randomBytes(8).toString('hex');
    const reply = await SET_RETIRED_SCRIPT.run(
      this.client,
      [this.keys.retired(scope), this.keys.retiredVersions(scope)],
      [String(slot), expected ?? '', text, version, this.settings.ttlMs],
    );
    return reply === 1 ? version : undefined;
  }

  /** Close the connection; stored data stays. */
  async close(): Promise<void> {
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }

  /**
   * One instance: versions first, then in one transaction the versions again,
   * the leases, the claim marks, and the texts of what changed, so a
   * concurrent claim or fold is seen wholly before or wholly after.
   */
  private async readScope(scope: string, known: (key: string, version: string) => boolean): Promise<ScopeRead> {
    const index = this.keys.index(scope);
    const versionsKey = this.keys.retiredVersions(scope);
    const first = await this.client.multi().zrange(index, 0, -1, 'WITHSCORES').hgetall(versionsKey).exec();
    const [firstLives, firstRetired] = [pairs(replyAt(first, 0)), replyAt(first, 1) as Record<string, string>];
    const members = firstLives.map(([member]) => member);
    const fetchText = firstLives.map(([member, version]) => !known(this.lifeKey(scope, member), version));
    const slots = Object.entries(firstRetired ?? {})
      .filter(([slot, version]) => !known(retiredKey(scope, Number(slot)), version))
      .map(([slot]) => slot);
    const transaction = this.client.multi().zrange(index, 0, -1, 'WITHSCORES').hgetall(versionsKey);
    if (members.length > 0) transaction.mget(...members.map((member) => this.keys.lease(scope, member)));
    members.forEach((member, i) => {
      const key = this.keys.life(scope, member);
      if (fetchText[i]) transaction.hmget(key, 'c', 's');
      else transaction.hmget(key, 'c');
    });
    if (slots.length > 0) transaction.hmget(this.keys.retired(scope), ...slots);
    const second = await transaction.exec();
    const nowLives = new Map(pairs(replyAt(second, 0)));
    const nowRetired = (replyAt(second, 1) ?? {}) as Record<string, string>;
    const leases = (members.length > 0 ? replyAt(second, 2) : []) as (string | null)[];
    const base = members.length > 0 ? 3 : 2;
    const lives: ListedLife[] = [];
    const stale: string[] = [];
    members.forEach((member, i) => {
      const parsed = this.keys.parseLifeMember(member);
      const version = nowLives.get(member);
      const fields = replyAt(second, base + i) as (string | null)[];
      if (parsed === undefined || version === undefined) return;
      const claimed = fields[0] !== null && fields[0] !== undefined;
      const text = fetchText[i] ? (fields[1] ?? undefined) : undefined;
      if (fetchText[i] && text === undefined) {
        stale.push(member); // indexed, but its snapshot expired: nothing left to count
        return;
      }
      const lease = leases[i];
      lives.push({
        scope,
        ...parsed,
        key: this.lifeKey(scope, member),
        version,
        state: claimed ? 'claimed' : lease !== null && lease !== undefined ? 'live' : 'expired',
        renewedAtMs: lease !== null && lease !== undefined ? Number(lease) : undefined,
        text: text ?? undefined,
      });
    });
    if (stale.length > 0) this.client.zrem(index, ...stale).catch((error: unknown) => this.background('prune', error));
    const texts = slots.length > 0 ? (replyAt(second, base + members.length) as (string | null)[]) : [];
    const retired: RetiredRecord[] = [];
    const changedUnread: string[] = [];
    for (const [slot, version] of Object.entries(nowRetired)) {
      const at = slots.indexOf(slot);
      if (at === -1 && !known(retiredKey(scope, Number(slot)), version)) {
        // Folded again between the two passes: a version without its text would be taken for the
        // text held for the older one, and a compare-and-set on it would overwrite that fold.
        changedUnread.push(slot);
        continue;
      }
      retired.push({ slot: Number(slot), version, text: at === -1 ? undefined : textOrMissing(texts[at]) });
    }
    if (changedUnread.length > 0) retired.push(...(await this.readRetiredPairs(scope, changedUnread)));
    return { scope, owner: this.keys.ownerOf(scope), lives, retired };
  }

  /**
   * The version and text of each of `slots`, read together. Later than the rest of the scope's
   * read, which is safe: retired totals only grow, and a life they list as folded is skipped.
   */
  private async readRetiredPairs(scope: string, slots: readonly string[]): Promise<RetiredRecord[]> {
    const reply = await this.client
      .multi()
      .hmget(this.keys.retiredVersions(scope), ...slots)
      .hmget(this.keys.retired(scope), ...slots)
      .exec();
    const versions = replyAt(reply, 0) as (string | null)[];
    const texts = replyAt(reply, 1) as (string | null)[];
    const records: RetiredRecord[] = [];
    slots.forEach((slot, i) => {
      const version = versions[i];
      // Gone meanwhile (the store was emptied): left out, as a slot the store lost.
      if (version !== null && version !== undefined) records.push({ slot: Number(slot), version, text: textOrMissing(texts[i]) });
    });
    return records;
  }

  private lifeKey(scope: string, member: string): string {
    return `${scope}\u0000${member}`;
  }

  private async scopesInReach(now: number): Promise<string[]> {
    const own = this.keys.instanceMember(this.settings.self.service, this.settings.self.instance);
    if (this.settings.scope === 'instance') return [own];
    const registry = this.keys.registry();
    if (this.settings.ttlMs > 0) {
      const cutoff = now - this.settings.ttlMs - 2 * this.registryRefreshMs - 10_000;
      this.client.zremrangebyscore(registry, '-inf', cutoff).catch((error: unknown) => this.background('prune', error));
    }
    const registered = await this.client.zrange(registry, 0, -1);
    const members = new Set(registered);
    const forgetBefore = now - (this.settings.ttlMs > 0 ? this.settings.ttlMs : 24 * HOUR_MS);
    for (const [scope, seenAt] of this.seenScopes) {
      if (seenAt < forgetBefore) this.seenScopes.delete(scope);
      else members.add(scope);
    }
    for (const member of registered) this.seenScopes.set(member, now);
    if (this.settings.scope === 'all') return [...members];
    const prefix = this.keys.servicePrefix(this.settings.self.service);
    return [...members].filter((member) => member.startsWith(prefix));
  }

  /** Keep the instance in the registry: at a new life, and every third of the TTL. */
  private async announce(scope: string, newLife: boolean): Promise<void> {
    const now = Date.now();
    const last = this.registryRefreshedAt.get(scope);
    if (!newLife && last !== undefined && now - last < this.registryRefreshMs) return;
    try {
      await this.client.zadd(this.keys.registry(), now, scope);
      this.registryRefreshedAt.set(scope, now);
    } catch (error) {
      this.background('registry', error);
    }
  }

  private lifeKeys(life: LifeRef): { member: string; life: string; lease: string; index: string; retired: string; versions: string } {
    const member = this.keys.lifeMember(life);
    return {
      member,
      life: this.keys.life(life.scope, member),
      lease: this.keys.lease(life.scope, member),
      index: this.keys.index(life.scope),
      retired: this.keys.retired(life.scope),
      versions: this.keys.retiredVersions(life.scope),
    };
  }

  /** Wait for the first connection attempt to settle, if it has not yet. */
  private async connected(): Promise<void> {
    if (this.firstConnection !== undefined) await this.firstConnection;
  }

  private watchFirstConnection(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const settle = (): void => {
        clearTimeout(timer);
        this.client.off('ready', settle);
        this.client.off('error', settle);
        this.client.off('end', settle);
        this.firstConnection = undefined;
        resolve();
      };
      const timer = setTimeout(settle, timeoutMs);
      timer.unref();
      this.client.once('ready', settle);
      this.client.once('error', settle);
      this.client.once('end', settle);
    });
  }

  /** A failure nobody awaits: count it and log it once. */
  private background(operation: string, error: unknown): void {
    this.settings.selfMetrics?.recordStoreError(this.kind, operation);
    warnOnce(`store-redis-${operation}`, `redis store: ${operation} failed (will retry): ${errorMessage(error)}`);
  }
}

/** The frozen text of a fenced write or renewal. */
function fencedText(reply: unknown): string | undefined {
  return Array.isArray(reply) && reply[0] === -1 ? String(reply[1] ?? '') : undefined;
}

/** The reply of command `index` of a transaction, throwing its error. */
function replyAt(replies: [Error | null, unknown][] | null, index: number): unknown {
  if (replies === null) throw new Error('redis store: a read transaction was aborted');
  const entry = replies[index];
  if (entry === undefined) return undefined;
  if (entry[0]) throw entry[0];
  return entry[1];
}

/** `[member, score, member, score, ...]` as pairs. */
function pairs(reply: unknown): [string, string][] {
  const flat = (reply ?? []) as string[];
  const result: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) result.push([flat[i] as string, flat[i + 1] as string]);
  return result;
}

/**
 * The backend's sockets must not keep the app alive: a script must still end,
 * and a worker told to disconnect must still exit. Each connection is unref'd
 * as it opens (for a cluster client, each node's).
 */
function unrefConnections(client: RedisClient): void {
  const unref = (connection: { stream?: { unref?: () => void } }): void => {
    connection.stream?.unref?.();
  };
  if ('nodes' in client && typeof client.nodes === 'function') {
    client.on('+node', (node: { on(event: 'connect', listener: () => void): void; stream?: { unref?: () => void } }) => {
      node.on('connect', () => unref(node));
    });
    return;
  }
  client.on('connect', () => unref(client as { stream?: { unref?: () => void } }));
}

/**
 * The text of a retired record that was asked for. A version whose text is missing (evicted, or
 * deleted by hand) is an entry that cannot be read: an empty text, which fails to decode, so the
 * entry is reported, and the next fold or put-back may overwrite it. An absent text would mean
 * "the version you hold" (see RetiredRecord), and a fold on that version could never succeed.
 */
function textOrMissing(text: string | null | undefined): string {
  return text ?? '';
}
