import { createHash } from 'node:crypto';
import type { RedisConfig, ServeScope } from '../config/Config';
import { redisKeyPrefixProblem } from '../config/schema';
import { DEFAULT_MAX_ENDPOINTS } from '../merge/capEndpoints';
import { foldSnapshot } from '../merge/foldSnapshot';
import { warnMergeConflict } from '../merge/warnMergeConflict';
import { errorMessage } from '../self/errorMessage';
import { info, recovered, warnOnce } from '../self/Logger';
import type { SelfMetrics } from '../self/SelfMetrics';
import { processKey } from '../snapshot/Snapshot';
import type { Snapshot, SnapshotIdentity, StoredSnapshot } from '../snapshot/Snapshot';
import { decodeSnapshot, encodeSnapshot } from '../snapshot/SnapshotCodec';
import type { SnapshotStore } from './SnapshotStore';
import { createRedisClient, DEFAULT_REDIS_TIMINGS, type RedisTimings } from './redis/createRedisClient';
import type { RedisClient } from './redis/LuaScript';
import { RedisKeys } from './redis/RedisKeys';
import { RetiredMemory, type RememberedRetired } from './redis/RetiredMemory';
import { combineRetired, decideRetired } from './redis/reconcileRetired';
import { RESTORE_SCRIPT, RETIRE_SCRIPT, WRITE_SCRIPT } from './redis/scripts';
import { WriterLife } from './redis/WriterLife';
import { findIdentityConflicts } from './redis/findIdentityConflicts';

/** Options of {@link RedisStore.fromConfig} beyond the configuration file. */
export interface RedisStoreOptions {
  /** Where background failures (restores, pruning, undecodable entries) are counted. */
  readonly selfMetrics?: SelfMetrics;
  /** What {@link RedisStore.readAll} returns: this instance (default), its service, or everything under the prefix. */
  readonly scope?: ServeScope;
  /**
   * How long a process counts as live after its last write, ms. Default 5000:
   * five flush intervals at the longest allowed interval (1 s).
   */
  readonly leaseMs?: number;
  /** Connection timeouts; the defaults reject within about a second when Redis is away. */
  readonly timings?: RedisTimings;
  /**
   * Distinct `endpoint` values a slot's retired totals keep per metric; the
   * rest of a dead process's endpoints are summed into the overflow value, so
   * restarts do not add series (`metrics.max_endpoints`). Default 100.
   */
  readonly maxEndpoints?: number;
}

/** Everything a {@link RedisStore} needs besides its connection. */
export interface RedisStoreSettings {
  readonly keyPrefix: string;
  /** Key TTL in ms, refreshed by every write (heartbeat); 0 keeps keys forever. */
  readonly ttlMs: number;
  /** The service and instance this process belongs to (the `instance` scope). */
  readonly self: { readonly service: string; readonly instance: string };
  readonly scope: ServeScope;
  readonly leaseMs: number;
  readonly selfMetrics?: SelfMetrics;
  /** See {@link RedisStoreOptions.maxEndpoints}; default 100. */
  readonly maxEndpoints?: number;
}

const DEFAULT_LEASE_MS = 5_000;
/** How often a retire re-reads and retries after losing a race with a writer or another exporter. */
const MAX_RETIRE_ATTEMPTS = 8;
/** A write fenced more often than this in one call is refused (a bug, or two processes sharing a pid and start time). */
const MAX_FENCES_PER_WRITE = 3;
/** Writer lives kept per store (one per process it writes for; a worker has one or two). */
const MAX_LIVES = 64;
const HOUR_MS = 3_600_000;
/** Conflicting pairs remembered as reported; past this the memory starts over (a pair may be counted again). */
const MAX_REPORTED_CONFLICTS = 1_024;
/** Numbers stores so each one logs its own connection outage once. */
let storeSequence = 0;

/**
 * The shared snapshot store on Redis (ioredis): many processes of many hosts
 * write, any exporter reads the merged view. Key layout: {@link RedisKeys}.
 *
 * **Writes.** One `EVALSHA` per worker per flush (see `WRITE_SCRIPT`): the
 * snapshot with its TTL, the lease, the index entry and the TTL of the
 * instance's index and retired hash, all refreshed together. The TTL is a
 * heartbeat: an idle worker still flushes, so its keys never expire while it
 * lives. The client keeps no offline queue and short timeouts, so while Redis
 * is away a write rejects at once and nothing piles up; the next flush writes
 * the full cumulative snapshot again (catch-up is natural).
 *
 * **Liveness.** A lease key per process (`PX leaseMs`) is refreshed by every
 * write; `live` in {@link readAll} is "the lease exists".
 *
 * **Fencing (a worker presumed dead that comes back).** {@link retire} folds
 * the stored snapshot into the slot's retired value, deletes it and leaves a
 * tombstone holding that snapshot's `writtenAtMs`, all in one atomic script
 * that compare-and-sets both values it read. Every write first checks the
 * tombstone in the same script. A process that finds one does not write; it
 * starts a new life (same slot and pid, a new `startTimeMs`, so a new key) and
 * from then on stores only `current − folded` for counters and histograms: the
 * folded snapshot is one it wrote itself, which it still holds (the last
 * confirmed write or one whose reply was lost). Nothing is counted twice and
 * nothing counted after the fold is lost. Tombstones live `max(2 × TTL, 1 h)`
 * (24 h without TTL); a process paused longer than that would be counted twice.
 *
 * **One identity, two claimants.** Every read checks each instance for two
 * live processes of one slot that write at the same time (see
 * {@link findIdentityConflicts}); that means two apps share a
 * `service.instance.id`. It is logged once and counted in the self-metric
 * `CATALOGUE.identityConflicts`, not silently merged away.
 *
 * **Redis emptied.** Live workers rewrite everything on their next flush. The
 * store remembers the newest retired value of every slot it retired or read,
 * and puts back missing ones (with its tombstones) on the next read and on the
 * next write of its own instance, never over a value that already contains
 * them. An instance's retired values expire with it (same TTL, same heartbeat).
 */
export class RedisStore implements SnapshotStore {
  readonly kind = 'redis';
  private readonly keys: RedisKeys;
  private readonly lives = new Map<string, WriterLife>();
  private readonly retired = new RetiredMemory();
  private readonly registryRefreshedAt = new Map<string, number>();
  /** Identity conflicts already counted and logged, by pair of process keys. */
  private readonly reportedConflicts = new Set<string>();
  private readonly tombstoneTtlMs: number;
  private readonly registryRefreshMs: number;
  private readonly outageKey = `store-redis-connection-${++storeSequence}`;
  /**
   * Settles on the first 'ready', the first connection error, or after the
   * connect timeout. Calls made while the very first connection is being set up
   * wait for it (briefly, once); after that nothing ever waits on a reconnect.
   */
  private firstConnection: Promise<void> | undefined;

  /**
   * Open a store from configuration. Never connects synchronously and never
   * throws because Redis is down; throws only for bad configuration (a key
   * prefix a Redis Cluster cannot route, an unreadable TLS file).
   */
  static fromConfig(
    config: RedisConfig,
    self: { service: string; instance: string },
    options: RedisStoreOptions = {},
  ): RedisStore {
    // The schema refuses such a prefix at startup; this guards stores opened from code.
    const prefixProblem = redisKeyPrefixProblem(config);
    if (prefixProblem !== undefined) throw new Error(`redis.key_prefix: expected ${prefixProblem}, got "${config.keyPrefix}"`);
    const ttlMs = config.ttlDisabled ? 0 : Math.round(config.ttlSeconds * 1000);
    const leaseMs = Math.max(1, Math.min(options.leaseMs ?? DEFAULT_LEASE_MS, ttlMs > 0 ? ttlMs : Infinity));
    const client = createRedisClient(config, options.timings);
    const settings: RedisStoreSettings = {
      keyPrefix: config.keyPrefix,
      ttlMs,
      self: { service: self.service, instance: self.instance },
      scope: options.scope ?? 'instance',
      leaseMs,
      ...(options.selfMetrics ? { selfMetrics: options.selfMetrics } : {}),
      ...(options.maxEndpoints !== undefined ? { maxEndpoints: options.maxEndpoints } : {}),
    };
    return new RedisStore(client, settings, options.timings?.connectTimeoutMs);
  }

  /** Wrap an ioredis client (standalone, Sentinel or cluster) created with no offline queue. */
  constructor(
    private readonly client: RedisClient,
    private readonly settings: RedisStoreSettings,
    connectTimeoutMs: number = DEFAULT_REDIS_TIMINGS.connectTimeoutMs,
  ) {
    this.keys = new RedisKeys(settings.keyPrefix);
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

  /** Store a process's cumulative snapshot (one script call; see the class comment for fencing). */
  async write(snapshot: Snapshot): Promise<void> {
    const life = this.lifeOf(snapshot.identity);
    if (life.inFlight) {
      throw new Error(`redis store: the previous write of ${processKey(snapshot.identity)} is still in flight; this flush is skipped`);
    }
    life.inFlight = true;
    try {
      await this.connected();
      for (let fences = 0; fences <= MAX_FENCES_PER_WRITE; fences++) {
        const effective = life.effective(snapshot);
        let outcome: WriteOutcome;
        try {
          outcome = await this.writeOnce(effective);
        } catch (error) {
          // Only a command that may have reached Redis can be the one a retire folds.
          if (!neverSent(error)) life.doubt(snapshot);
          throw error;
        }
        if (outcome.fencedAtMs === undefined) {
          life.confirm(snapshot);
          await this.afterWrite(effective.identity, outcome);
          return;
        }
        const before = processKey(life.identity);
        const known = life.fence(outcome.fencedAtMs, snapshot, Date.now());
        info(`redis store: ${before} was folded into its slot while presumed dead; it goes on as ${processKey(life.identity)}, counting from the folded snapshot${known ? '' : ' (unknown to it: counts since then are dropped)'}`);
      }
      throw new Error(`redis store: ${processKey(snapshot.identity)} was fenced ${MAX_FENCES_PER_WRITE + 1} times in one write; is another process writing under the same identity?`);
    } finally {
      life.inFlight = false;
    }
  }

  /** Every snapshot in scope: live and dead processes, and the slots' retired values. */
  async readAll(): Promise<StoredSnapshot[]> {
    await this.connected();
    const now = Date.now();
    const instances = await this.instancesInScope(now);
    const parts = await Promise.all(instances.map((instance) => this.readInstance(instance, now)));
    this.retired.sweep(now - this.forgetAfterMs());
    return parts.flat();
  }

  /** Fold a dead process into its slot, exactly once (compare-and-set script, retried on a race). */
  async retire(identity: SnapshotIdentity): Promise<void> {
    const k = this.processKeys(identity);
    const field = this.keys.retiredField(identity.slot);
    await this.connected();
    for (let attempt = 0; attempt < MAX_RETIRE_ATTEMPTS; attempt++) {
      const [snapshotText, retiredText] = await Promise.all([
        this.client.get(k.snapshot),
        this.client.hget(k.retired, field),
      ]);
      if (snapshotText === null) {
        await this.client.srem(k.index, k.member); // already folded or expired: nothing to count
        return;
      }
      const dead = this.decode(snapshotText, k.snapshot);
      if (dead === undefined) {
        await this.dropProcess(k); // unreadable: it can never be counted, keep it from blocking the slot
        return;
      }
      const base = retiredText !== null
        ? decodeSnapshot(retiredText, `${k.retired} field ${field}`)
        : this.rememberedSnapshot(k.instance, field); // emptied Redis: fold onto what it held
      const next = foldSnapshot(base, dead, { maxEndpoints: this.settings.maxEndpoints ?? DEFAULT_MAX_ENDPOINTS, onConflict: warnMergeConflict });
      const nextText = encodeSnapshot(next);
      const tombstone = String(dead.writtenAtMs);
      const reply = await RETIRE_SCRIPT.run(this.client, [k.snapshot, k.lease, k.tombstone, k.index, k.retired], [
        sha1(snapshotText), field, retiredText === null ? '' : sha1(retiredText), nextText,
        this.settings.ttlMs, tombstone, this.tombstoneTtlMs, k.member,
      ]);
      if (reply === 0) return;
      if (reply === 1) {
        const now = Date.now();
        this.retired.remember(k.instance, field, nextText, next.folded ?? [], now);
        this.retired.addTombstone(k.instance, field, { key: k.tombstone, value: tombstone, expiresAtMs: now + this.tombstoneTtlMs }, now);
        return;
      }
    }
    throw new Error(`redis store: retiring ${processKey(identity)} kept racing with other writers (${MAX_RETIRE_ATTEMPTS} attempts); will retry`);
  }

  /** Drop a process's snapshot without folding it. */
  async remove(identity: SnapshotIdentity): Promise<void> {
    const key = processKey(identity);
    const life = this.lives.get(key);
    this.lives.delete(key);
    await this.dropProcess(this.processKeys(life?.identity ?? identity));
  }

  /** Close the connection; stored data stays. */
  async close(): Promise<void> {
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
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

  private lifeOf(identity: SnapshotIdentity): WriterLife {
    const key = processKey(identity);
    let life = this.lives.get(key);
    if (life === undefined) {
      life = new WriterLife(identity);
      this.lives.set(key, life);
      if (this.lives.size > MAX_LIVES) this.lives.delete(this.lives.keys().next().value as string);
    }
    return life;
  }

  private async writeOnce(snapshot: Snapshot): Promise<WriteOutcome> {
    const k = this.processKeys(snapshot.identity);
    const check = this.retired.forInstance(k.instance, Date.now()).map((entry) => entry.field);
    const reply = await WRITE_SCRIPT.run(this.client, [k.snapshot, k.lease, k.tombstone, k.index, k.retired], [
      encodeSnapshot(snapshot), this.settings.ttlMs, this.settings.leaseMs, k.member, ...check,
    ]);
    if (!Array.isArray(reply) || typeof reply[0] !== 'number') throw new Error(`redis store: unexpected reply to the write script: ${String(reply)}`);
    if (reply[0] === -1) return { fencedAtMs: Number(reply[1]), added: false, missing: [] };
    return { added: reply[0] === 1, missing: reply.slice(1).map(String) };
  }

  /** Rare follow-ups of a write: announce the instance, put back retired values Redis lost. */
  private async afterWrite(identity: SnapshotIdentity, outcome: WriteOutcome): Promise<void> {
    const instance = this.keys.instanceOf(identity);
    const now = Date.now();
    const last = this.registryRefreshedAt.get(instance);
    if (outcome.added || last === undefined || now - last >= this.registryRefreshMs) {
      try {
        await this.client.zadd(this.keys.registry(), now, instance);
        this.registryRefreshedAt.set(instance, now);
      } catch (error) {
        this.background('registry', error);
      }
    }
    for (const field of outcome.missing) {
      const entry = this.retired.get(instance, field);
      if (entry !== undefined) await this.restore(entry, '', entry.text, now);
    }
  }

  private async instancesInScope(now: number): Promise<string[]> {
    const own = this.keys.instanceMember(this.settings.self.service, this.settings.self.instance);
    if (this.settings.scope === 'instance') return [own];
    const registry = this.keys.registry();
    if (this.settings.ttlMs > 0) {
      const cutoff = now - this.settings.ttlMs - 2 * this.registryRefreshMs - 10_000;
      this.client.zremrangebyscore(registry, '-inf', cutoff).catch((error: unknown) => this.background('prune', error));
    }
    const members = await this.client.zrange(registry, 0, -1);
    if (this.settings.scope === 'all') return members;
    const prefix = this.keys.servicePrefix(this.settings.self.service);
    return members.filter((member) => member.startsWith(prefix));
  }

  /** One instance, read atomically (one transaction), with lost retired values put back. */
  private async readInstance(instance: string, now: number): Promise<StoredSnapshot[]> {
    const index = this.keys.index(instance);
    const members = await this.client.smembers(index);
    const snapshotKeys = members.map((member) => this.keys.snapshot(instance, member));
    const leaseKeys = members.map((member) => this.keys.lease(instance, member));
    const { retired, snapshots, leases } = await this.readConsistently(this.keys.retired(instance), snapshotKeys, leaseKeys);
    const stored: StoredSnapshot[] = [];
    const stale: string[] = [];
    for (let i = 0; i < members.length; i++) {
      const text = snapshots[i];
      if (text === null || text === undefined) {
        stale.push(members[i] as string);
        continue;
      }
      const snapshot = this.decode(text, snapshotKeys[i] as string);
      if (snapshot !== undefined) stored.push({ snapshot, live: leases[i] !== null && leases[i] !== undefined });
    }
    if (stale.length > 0) this.client.srem(index, ...stale).catch((error: unknown) => this.background('prune', error));
    this.reportIdentityConflicts(stored);
    const retiredSnapshots = await this.reconcileInstance(instance, retired, members.length > 0 || retired.size > 0, now);
    for (const snapshot of retiredSnapshots) stored.push({ snapshot, live: false });
    return stored;
  }

  /**
   * Two live processes writing as one instance and slot at once are two apps
   * sharing a `service.instance.id`: their counts would be added together
   * silently. Counted and logged once per pair; the merge itself is left as it
   * is (it cannot tell which process is the rightful one).
   */
  private reportIdentityConflicts(stored: readonly StoredSnapshot[]): void {
    for (const conflict of findIdentityConflicts(stored)) {
      if (this.reportedConflicts.has(conflict.pairKey)) continue;
      if (this.reportedConflicts.size >= MAX_REPORTED_CONFLICTS) this.reportedConflicts.clear();
      this.reportedConflicts.add(conflict.pairKey);
      const { service, instance, slot } = conflict.newer;
      this.settings.selfMetrics?.recordIdentityConflict(instance, service);
      warnOnce(
        `store-redis-identity-${service}|${instance}`,
        `redis store: two live processes write as service "${service}" instance "${instance}" slot ${slot} ` +
          `(pid ${conflict.older.pid} started ${new Date(conflict.older.startTimeMs).toISOString()}, ` +
          `pid ${conflict.newer.pid} started ${new Date(conflict.newer.startTimeMs).toISOString()}); ` +
          'give each app instance its own service.instance.id (OTEL_RESOURCE_ATTRIBUTES) or their metrics are added together',
      );
    }
  }

  /**
   * The retired hash and the listed snapshots and leases of one instance in one
   * MULTI/EXEC (one slot, one round trip), so a concurrent retire is seen wholly
   * before or wholly after: never counted twice, never missing. A transaction
   * rather than a script, so megabytes of snapshots are not copied through Lua.
   */
  private async readConsistently(retiredKey: string, snapshotKeys: string[], leaseKeys: string[]): Promise<InstanceRead> {
    const transaction = this.client.multi().hgetall(retiredKey);
    if (snapshotKeys.length > 0) transaction.mget(...snapshotKeys).mget(...leaseKeys);
    const replies = await transaction.exec();
    if (replies === null) throw new Error('redis store: a read transaction was aborted');
    for (const [error] of replies) if (error) throw error;
    const hash = (replies[0]?.[1] ?? {}) as Record<string, string>;
    return {
      retired: new Map(Object.entries(hash)),
      snapshots: (replies[1]?.[1] ?? []) as (string | null)[],
      leases: (replies[2]?.[1] ?? []) as (string | null)[],
    };
  }

  /**
   * The retired values of one instance as they should be: what Redis holds,
   * unless this store remembers more (Redis was emptied), in which case that is
   * written back first. `alive`: the instance has not expired (its index or retired hash exists).
   */
  private async reconcileInstance(instance: string, present: Map<string, string>, alive: boolean, now: number): Promise<Snapshot[]> {
    const result = new Map<string, Snapshot>();
    for (const [field, text] of present) {
      const current = this.decode(text, `${this.keys.retired(instance)} field ${field}`);
      if (current === undefined) continue;
      result.set(field, current);
      const ours = this.retired.get(instance, field);
      if (ours === undefined || ours.text === text) {
        this.retired.remember(instance, field, text, current.folded ?? [], now);
        continue;
      }
      const decision = decideRetired(current.folded ?? [], ours.folded);
      if (decision === 'keep') {
        this.retired.remember(instance, field, text, current.folded ?? [], now);
      } else if (decision === 'conflict') {
        warnOnce(`store-redis-retired-conflict`, `redis store: the retired totals of ${instance} slot ${field} in Redis overlap with the ones this exporter remembers; keeping Redis's`);
      } else {
        const replacement = decision === 'ours' ? this.rememberedSnapshot(instance, field) : this.combined(current, ours);
        if (replacement === undefined) continue;
        const replacementText = decision === 'ours' ? ours.text : encodeSnapshot(replacement);
        if (await this.restore({ ...ours, text: replacementText, folded: replacement.folded ?? [] }, sha1(text), replacementText, now)) {
          result.set(field, replacement);
        }
      }
    }
    if (alive) {
      for (const ours of this.retired.forInstance(instance, now)) {
        if (present.has(ours.field)) continue;
        const snapshot = this.rememberedSnapshot(instance, ours.field);
        if (snapshot !== undefined && (await this.restore(ours, '', ours.text, now))) result.set(ours.field, snapshot);
      }
    }
    return [...result.values()];
  }

  /** Write a retired value back over `expectedSha` ('' = absent), with its tombstones. */
  private async restore(entry: RememberedRetired, expectedSha: string, text: string, now: number): Promise<boolean> {
    const tombstones = entry.tombstones.filter((tombstone) => tombstone.expiresAtMs > now);
    const keys = [this.keys.retired(entry.instanceMember), this.keys.index(entry.instanceMember), ...tombstones.map((t) => t.key)];
    const args: (string | number)[] = [entry.field, expectedSha, text, this.settings.ttlMs];
    for (const tombstone of tombstones) args.push(tombstone.value, tombstone.expiresAtMs - now);
    try {
      const reply = await RESTORE_SCRIPT.run(this.client, keys, args);
      if (reply !== 1) return false;
      this.retired.remember(entry.instanceMember, entry.field, text, entry.folded, now);
      info(`redis store: put back the retired totals of ${entry.instanceMember} slot ${entry.field} that Redis had lost`);
      return true;
    } catch (error) {
      this.background('restore', error);
      return false;
    }
  }

  private combined(current: Snapshot, ours: RememberedRetired): Snapshot | undefined {
    const snapshot = this.rememberedSnapshot(ours.instanceMember, ours.field);
    return snapshot === undefined ? undefined : combineRetired(current, snapshot);
  }

  private rememberedSnapshot(instance: string, field: string): Snapshot | undefined {
    const entry = this.retired.get(instance, field);
    return entry === undefined ? undefined : this.decode(entry.text, `remembered retired totals of ${instance} slot ${field}`);
  }

  private async dropProcess(k: ProcessKeys): Promise<void> {
    await this.client.multi().del(k.snapshot, k.lease).srem(k.index, k.member).exec();
  }

  private processKeys(identity: SnapshotIdentity): ProcessKeys {
    const instance = this.keys.instanceOf(identity);
    const member = this.keys.processMember(identity);
    return {
      instance,
      member,
      snapshot: this.keys.snapshot(instance, member),
      lease: this.keys.lease(instance, member),
      tombstone: this.keys.tombstone(instance, member),
      index: this.keys.index(instance),
      retired: this.keys.retired(instance),
    };
  }

  private decode(text: string, source: string): Snapshot | undefined {
    try {
      return decodeSnapshot(text, source);
    } catch (error) {
      this.settings.selfMetrics?.recordStoreError(this.kind, 'decode');
      warnOnce('store-redis-decode', `redis store: skipping an undecodable entry: ${errorMessage(error)}`);
      return undefined;
    }
  }

  /** A failure nobody awaits: count it and log it once. */
  private background(operation: string, error: unknown): void {
    this.settings.selfMetrics?.recordStoreError(this.kind, operation);
    warnOnce(`store-redis-${operation}`, `redis store: ${operation} failed (will retry): ${errorMessage(error)}`);
  }

  /** A remembered retired value not seen in Redis for this long belongs to an instance that expired. */
  private forgetAfterMs(): number {
    return this.settings.ttlMs > 0 ? 2 * this.settings.ttlMs + 2 * this.registryRefreshMs : 24 * HOUR_MS;
  }
}

/** The Redis keys of one process life. */
interface ProcessKeys {
  readonly instance: string;
  readonly member: string;
  readonly snapshot: string;
  readonly lease: string;
  readonly tombstone: string;
  readonly index: string;
  readonly retired: string;
}

/** What the write script answered. */
interface WriteOutcome {
  /** Set when fenced: the `writtenAtMs` of this process's snapshot that was folded. */
  readonly fencedAtMs?: number;
  /** The process was not in its instance's index (new life, or Redis was emptied). */
  readonly added: boolean;
  /** Remembered retired fields missing from Redis. */
  readonly missing: readonly string[];
}

/** One instance as read by one transaction. */
interface InstanceRead {
  /** Retired hash: slot field -> encoded retired snapshot. */
  readonly retired: Map<string, string>;
  /** Encoded snapshots, null where the key is gone. */
  readonly snapshots: (string | null)[];
  /** Lease values, null where the lease expired. */
  readonly leases: (string | null)[];
}

/** ioredis refused the command locally (not connected, no offline queue): it never reached Redis. */
function neverSent(error: unknown): boolean {
  return error instanceof Error && error.message.includes("Stream isn't writeable");
}

function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

/**
 * The store's sockets must not keep the app alive: a script must still end,
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
