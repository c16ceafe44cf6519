import { DEFAULT_MAX_ENDPOINTS } from '../merge/capEndpoints';
import { foldSnapshot, MAX_FOLDED_KEYS } from '../merge/foldSnapshot';
import { warnMergeConflict } from '../merge/warnMergeConflict';
import { errorMessage } from '../self/errorMessage';
import { info, warnOnce } from '../self/Logger';
import type { SelfMetrics } from '../self/SelfMetrics';
import { processKey, slotKey } from '../snapshot/Snapshot';
import type { LifeEnd, Snapshot, SnapshotIdentity, StoredSnapshot } from '../snapshot/Snapshot';
import { decodeSnapshot, encodeSnapshot, SnapshotFormatError } from '../snapshot/SnapshotCodec';
import { retiredKey } from '../store/LifeBackend';
import type { LifeBackend, LifeRef, ListedLife, ScopeRead } from '../store/LifeBackend';
import type { SnapshotStore } from '../store/SnapshotStore';
import { findIdentityConflicts } from './findIdentityConflicts';
import { combineRetired, decideRetired } from './reconcileRetired';
import { WriterLife } from './WriterLife';

/** Options of {@link Retirement}. */
export interface RetirementOptions {
  /** Where failures (undecodable entries, restores, folds) and identity conflicts are counted. */
  readonly selfMetrics?: SelfMetrics;
  /**
   * Distinct `endpoint` values a slot's retired totals keep per metric; the
   * rest of a dead life's endpoints are summed into the overflow value, so
   * restarts do not add series (`metrics.max_endpoints`). Default 100.
   */
  readonly maxEndpoints?: number;
  /**
   * The service and instance whose snapshots this store serves. Snapshots of
   * any other (a foreign app writing into the same directory) are skipped and
   * counted, never merged or folded. Backends whose layout names the owner
   * (Redis) are checked against that instead.
   */
  readonly self?: { readonly service: string; readonly instance: string };
  /** Test hook: called between the steps of a fold, to inject a crash there. */
  readonly onFoldStep?: (step: FoldStep) => void | Promise<void>;
}

/** The steps of a fold, in order (see {@link RetirementOptions.onFoldStep}). */
export type FoldStep = 'claimed' | 'recorded' | 'released';

/** A decoded entry, remembered with the version it was decoded from. */
interface Decoded {
  readonly version: string;
  /** Undefined for an entry that could not be decoded or is not ours: it is skipped without being read again. */
  readonly snapshot: Snapshot | undefined;
}

/** A life as the last read saw it. */
interface SeenLife {
  readonly ref: LifeRef;
  readonly snapshot: Snapshot;
  readonly state: ListedLife['state'];
  readonly renewedAtMs: number | undefined;
}

/** A slot's retired totals as the last read saw (or this reader wrote) them. */
interface SeenRetired {
  readonly scope: string;
  readonly slot: number;
  /** The stored version; undefined when the backend does not hold them (they are to be put back). */
  readonly version: string | undefined;
  /** Undefined for an entry that cannot be trusted (undecodable, foreign): the next fold overwrites it. */
  readonly snapshot: Snapshot | undefined;
}

/** A fold to make: a dead or claimed life, and how it ended. */
interface FoldJob {
  readonly ref: LifeRef;
  readonly how: LifeEnd['how'];
  /** Leave a tombstone: the writer may still run (it was only presumed dead). */
  readonly keepTombstone: boolean;
}

/** How many times a fold re-reads and retries after losing a compare-and-set. */
const MAX_FOLD_ATTEMPTS = 8;
/** A write fenced more often than this in one call is refused (two processes share one identity). */
const MAX_FENCES_PER_WRITE = 3;
/** Writer lives kept per store (one per process it writes for; a worker has one or two). */
const MAX_WRITERS = 64;
/** Identity conflicts remembered as reported; past this the memory starts over. */
const MAX_REPORTED_CONFLICTS = 1_024;

/**
 * The one retirement protocol, over any {@link LifeBackend}: who is alive,
 * when a life ends, how its totals fold into its slot exactly once, how a
 * returning "dead" writer is fenced, and how what a backend lost is put back.
 *
 * ```text
 *            write / renew (lease)
 *   ┌──────┐ ────────────────────┐
 *   │ live │ <───────────────────┘        cluster 'exit' (at once)
 *   └──┬───┘ ─────────────────────────────────────────────┐
 *      │ lease ran out (reaper, for writers no primary sees)│
 *   ┌──▼───┐  claim (atomic: freezes the last snapshot)  ┌──▼──────┐
 *   │ dead │ ───────────────────────────────────────────>│ claimed │
 *   └──────┘                                             └──┬──────┘
 *        compare-and-set of the slot's retired totals,      │
 *        the life's key appended to their `folded` list     │
 *                                                        ┌──▼─────┐
 *                                                        │ folded │
 *                                                        └────────┘
 *   A write to a claimed life is refused and answers with the frozen
 *   snapshot: the writer is *fenced*, goes on as a new life of its slot and
 *   stores only what it counted since (current − folded).
 * ```
 *
 * Rules:
 * - **Liveness is the lease**, renewed by every flush (a flush with nothing
 *   new renews it without writing data). The primary retires a worker the
 *   moment the cluster reports its exit ({@link retireProcess}); the reaper
 *   ({@link reap}) folds lives whose lease ran out, for writers no primary
 *   watches (PM2, sidecars, other hosts).
 * - **Exactly once.** Counters and histograms of a slot are the sum of its
 *   retired totals and of every life not listed in their `folded` list; a
 *   fold appends the life in the same compare-and-set that adds its totals,
 *   so a fold repeated after a crash at any step, or raced by another
 *   retirer, counts nothing twice.
 * - **Nothing lost when the backend is emptied.** Every reader keeps the last
 *   snapshot of every life it has seen and the retired totals of every slot.
 *   A read that finds them missing serves what it remembers (never a dip)
 *   and puts them back: retired totals by compare-and-set over what is there
 *   (merged by their `folded` lists, see {@link decideRetired}), a lost life
 *   as a claim of its last seen snapshot, which is then folded; a writer still
 *   running is fenced by that claim and counts on from it.
 * - Gauges count only for live lives; a claimed life's go at once.
 */
export class Retirement implements SnapshotStore {
  readonly kind: string;
  private readonly writers = new Map<string, WriterLife>();
  private readonly decoded = new Map<string, Decoded>();
  private seenLives = new Map<string, SeenLife>();
  private readonly seenRetired = new Map<string, SeenRetired>();
  /** Per scope: when a live lease was last seen, to tell data that expired from data that was lost. */
  private readonly scopeActiveAtMs = new Map<string, number>();
  /** Versions of retired entries that cannot be trusted, so a fold can overwrite them by compare-and-set. */
  private readonly retiredVersions = new Map<string, string | undefined>();
  /** Per scope: the service and instance its layout names, if any. */
  private readonly scopeOwners = new Map<string, { readonly service: string; readonly instance: string } | undefined>();
  /** Lives this reader put back as claims after the backend lost them (their fold ends as `lost`). */
  private readonly restoredClaims = new Set<string>();
  private readonly reportedConflicts = new Set<string>();
  private reading: Promise<StoredSnapshot[]> | undefined;
  private readonly maxEndpoints: number;

  constructor(
    readonly backend: LifeBackend,
    private readonly options: RetirementOptions = {},
  ) {
    this.kind = backend.kind;
    this.maxEndpoints = options.maxEndpoints ?? DEFAULT_MAX_ENDPOINTS;
  }

  /**
   * Store a process's cumulative snapshot: one backend call per flush, a
   * renewal only when nothing changed since the last write. A fenced life
   * goes on as a new one (see the class comment).
   */
  async write(snapshot: Snapshot): Promise<void> {
    const life = this.writerOf(snapshot.identity);
    if (life.inFlight) {
      throw new Error(`${this.kind} store: the previous write of ${processKey(snapshot.identity)} is still in flight; this flush is skipped`);
    }
    // Nothing new, and the lease was renewed recently enough: no backend call at all.
    if (!life.renewalDue(Date.now(), this.backend.leaseMs) && life.unchanged(life.effective(snapshot))) return;
    life.inFlight = true;
    try {
      for (let fences = 0; fences <= MAX_FENCES_PER_WRITE; fences++) {
        const effective = life.effective(snapshot);
        const ref = this.refOf(life.identity);
        let reply = life.unchanged(effective) ? await this.backend.renew(ref) : 'missing';
        if (reply === 'missing') reply = await this.backend.write(ref, life.encode(effective), life.nextVersion(effective));
        if (reply === 'written') {
          life.written(effective);
          return;
        }
        this.fence(life, reply.fenced, snapshot);
      }
      throw new Error(
        `${this.kind} store: ${processKey(snapshot.identity)} was fenced ${MAX_FENCES_PER_WRITE + 1} times in one write; is another process writing under the same identity?`,
      );
    } finally {
      life.inFlight = false;
    }
  }

  /** The synchronous form of {@link write}, for a process about to die, where the backend can block. */
  get writeSync(): ((snapshot: Snapshot) => void) | undefined {
    const backendWrite = this.backend.writeSync?.bind(this.backend);
    if (backendWrite === undefined) return undefined;
    return (snapshot: Snapshot): void => {
      const life = this.writerOf(snapshot.identity);
      for (let fences = 0; fences <= MAX_FENCES_PER_WRITE; fences++) {
        const effective = life.effective(snapshot);
        const reply = backendWrite(this.refOf(life.identity), encodeSnapshot(effective), life.nextVersion(effective));
        if (reply === 'written') {
          life.written(effective);
          return;
        }
        this.fence(life, reply.fenced, snapshot);
      }
    };
  }

  /**
   * Every snapshot in scope: live lives, dead lives not folded yet, the
   * slots' retired totals, and whatever this reader remembers that the
   * backend lost (put back meanwhile). Concurrent calls share one read.
   */
  readAll(): Promise<StoredSnapshot[]> {
    if (this.reading === undefined) {
      this.reading = this.readOnce().finally(() => {
        this.reading = undefined;
      });
    }
    return this.reading;
  }

  /**
   * Fold one life now, whatever its lease says: its caller knows it is gone.
   * Exactly once, even if called again or concurrently.
   */
  async retire(identity: SnapshotIdentity, how: LifeEnd['how'] = 'exited'): Promise<void> {
    await this.foldLife({ ref: this.refOf(identity), how, keepTombstone: true }, false);
  }

  /**
   * The cluster primary saw worker `pid` of `slot` exit: fold every life it
   * wrote (its original one and any it went on as after a fence), at once.
   * Returns how many lives were folded.
   */
  async retireProcess(slot: number, pid: number): Promise<number> {
    // A life is its pid and its start: a process that got the pid after this exit is another life.
    const exitedAtMs = Date.now();
    await this.readAll().catch(() => undefined); // a read already under way may predate the last write
    await this.readAll();
    const lives = [...this.seenLives.values()].filter(({ ref }) => ref.role === 'worker' && ref.slot === slot && ref.pid === pid && ref.startTimeMs <= exitedAtMs);
    for (const { ref } of lives) await this.foldLife({ ref, how: 'exited', keepTombstone: false }, false);
    return lives.length;
  }

  /**
   * Fold every worker life whose lease ran out, and finish folds left
   * unfinished. Each life is folded on its own: one that fails never keeps the
   * others from being folded, and is tried again at the next reap.
   *
   * @throws Error naming the first failure, once every life was tried (the
   * caller counts and logs it).
   */
  async reap(): Promise<void> {
    await this.readAll();
    const failures: unknown[] = [];
    for (const { ref, state, snapshot } of [...this.seenLives.values()]) {
      if (ref.role !== 'worker' || state === 'live') continue;
      const how: LifeEnd['how'] = state === 'claimed' && this.restoredClaims.has(processKey(snapshot.identity)) ? 'lost' : 'expired';
      try {
        await this.foldLife({ ref, how, keepTombstone: true }, true);
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length > 0) throw new Error(`${failures.length} dead worker(s) could not be folded: ${errorMessage(failures[0])}`);
  }

  /**
   * Drop a life without counting it (a process that became the primary): it
   * is claimed, so it can never write again, and listed as folded with
   * nothing added.
   */
  async remove(identity: SnapshotIdentity): Promise<void> {
    const life = this.writers.get(processKey(identity));
    this.writers.delete(processKey(identity));
    const ref = this.refOf(life?.identity ?? identity);
    const claimed = await this.backend.claim(ref, false);
    if (claimed === 'gone' || claimed === 'live') return;
    await this.record(ref, { identity: { ...identity, ...lifeIdentity(ref) }, writtenAtMs: Date.now(), metrics: [] }, 'removed');
    await this.backend.release(ref, false);
  }

  /** Release the backend's timers and connections; stored data stays. */
  async close(): Promise<void> {
    await this.backend.close();
  }

  /** Lives the last read saw, with their state; for restart accounting (see lifeHistory). */
  lives(): { readonly identity: SnapshotIdentity; readonly state: ListedLife['state'] }[] {
    return [...this.seenLives.values()].map(({ snapshot, state }) => ({ identity: snapshot.identity, state }));
  }

  private async readOnce(): Promise<StoredSnapshot[]> {
    const scopes = await this.backend.read((key, version) => this.decoded.get(key)?.version === version);
    const nowMs = Date.now();
    const view: StoredSnapshot[] = [];
    const seen = new Map<string, SeenLife>();
    const repairs: (() => Promise<void>)[] = [];
    for (const scope of scopes) view.push(...this.readScope(scope, nowMs, seen, repairs));
    // Decodes of entries no longer listed go; a bad entry still listed stays known as bad.
    const listed = new Set<string>();
    for (const scope of scopes) {
      for (const life of scope.lives) listed.add(life.key);
      for (const record of scope.retired) listed.add(retiredKey(scope.scope, record.slot));
    }
    for (const key of this.decoded.keys()) if (!listed.has(key) && !seen.has(key) && !this.seenRetired.has(key)) this.decoded.delete(key);
    this.seenLives = seen;
    for (const repair of repairs) {
      try {
        await repair();
      } catch (error) {
        this.failed('restore', `putting back what the ${this.kind} store lost failed (will retry): ${errorMessage(error)}`);
      }
    }
    return view;
  }

  /** One scope's part of the view; lost data is served from memory and its repair queued. */
  private readScope(scope: ScopeRead, nowMs: number, seen: Map<string, SeenLife>, repairs: (() => Promise<void>)[]): StoredSnapshot[] {
    this.scopeOwners.set(scope.scope, scope.owner);
    const view: StoredSnapshot[] = [];
    const retired = this.reconcileRetired(scope, nowMs, repairs);
    const folded = new Set<string>();
    for (const record of retired) {
      if (record.snapshot === undefined) continue;
      for (const key of record.snapshot.folded ?? []) folded.add(key);
      view.push({ snapshot: record.snapshot, live: false });
    }
    const listed = new Set<string>();
    const lives: StoredSnapshot[] = [];
    for (const life of scope.lives) {
      listed.add(life.key);
      const snapshot = this.decodeLife(scope, life);
      if (snapshot === undefined) continue;
      if (life.state === 'live') this.scopeActiveAtMs.set(scope.scope, nowMs);
      if (folded.has(processKey(snapshot.identity))) {
        // Folded, but the claim is still there: a fold interrupted after its compare-and-set.
        if (life.state === 'claimed') repairs.push(() => this.backend.release(life, true));
        continue;
      }
      seen.set(life.key, { ref: life, snapshot, state: life.state, renewedAtMs: life.renewedAtMs });
      const entry: StoredSnapshot =
        life.renewedAtMs !== undefined && life.renewedAtMs > snapshot.writtenAtMs
          ? { snapshot, live: life.state === 'live', renewedAtMs: life.renewedAtMs }
          : { snapshot, live: life.state === 'live' };
      lives.push(entry);
    }
    for (const [key, remembered] of this.seenLives) {
      if (remembered.ref.scope !== scope.scope || listed.has(key) || folded.has(processKey(remembered.snapshot.identity))) continue;
      if (this.expiredOnItsOwn(scope.scope, remembered.renewedAtMs ?? remembered.snapshot.writtenAtMs, nowMs)) continue;
      // The backend lost a life it had (emptied): serve its last snapshot and put it back as a claim.
      seen.set(key, { ...remembered, state: 'claimed' });
      this.decoded.set(key, { version: `lost:${remembered.snapshot.writtenAtMs}`, snapshot: remembered.snapshot });
      lives.push({ snapshot: remembered.snapshot, live: false });
      repairs.push(async () => {
        if (await this.backend.restoreClaim(remembered.ref, encodeSnapshot(remembered.snapshot), remembered.snapshot.writtenAtMs)) {
          this.restoredClaims.add(processKey(remembered.snapshot.identity));
          if (this.restoredClaims.size > 1024) this.restoredClaims.clear();
          info(`${this.kind} store: put back ${processKey(remembered.snapshot.identity)}, which the store had lost, from the last snapshot seen`);
        }
      });
    }
    this.reportIdentityConflicts(lives);
    view.push(...lives);
    return view;
  }

  /**
   * The retired totals of one scope as they should be: what the backend holds,
   * unless this reader remembers more (the backend was emptied, or restarted
   * empty), in which case the remembered or combined totals are served and
   * written back by compare-and-set.
   */
  private reconcileRetired(scope: ScopeRead, nowMs: number, repairs: (() => Promise<void>)[]): SeenRetired[] {
    const stored = new Map<number, SeenRetired>();
    for (const record of scope.retired) {
      const key = retiredKey(scope.scope, record.slot);
      const snapshot = this.decode(
        key,
        record.version,
        record.text,
        `${scope.scope} retired slot ${record.slot}`,
        (s) => s.identity.role === 'retired' && this.owns(scope.scope, s.identity),
      );
      stored.set(record.slot, { scope: scope.scope, slot: record.slot, version: record.version, snapshot });
    }
    const result = new Map(stored);
    for (const [key, ours] of this.seenRetired) {
      if (ours.scope !== scope.scope || ours.snapshot === undefined) continue;
      const current = stored.get(ours.slot);
      if (current !== undefined && current.version === ours.version) continue;
      if (current === undefined && this.expiredOnItsOwn(scope.scope, ours.snapshot.writtenAtMs, nowMs)) {
        this.seenRetired.delete(key);
        continue;
      }
      const decision = decideRetired(current?.snapshot?.folded, ours.snapshot.folded ?? []);
      if (decision === 'keep') continue;
      if (decision === 'conflict') {
        warnOnce(
          `store-${this.kind}-retired-conflict`,
          `${this.kind} store: the retired totals of slot ${ours.slot} in the store overlap with the ones this reader remembers; keeping the store's`,
        );
        continue;
      }
      const replacement = decision === 'ours' || current?.snapshot === undefined ? ours.snapshot : combineRetired(current.snapshot, ours.snapshot);
      // Served whole at once; written back below (the next read decides again if that loses a race).
      result.set(ours.slot, { scope: scope.scope, slot: ours.slot, version: current?.version, snapshot: replacement });
      const expected = current?.version;
      repairs.push(async () => {
        const version = await this.backend.compareAndSetRetired(scope.scope, ours.slot, expected, encodeSnapshot(replacement));
        if (version === undefined) return;
        this.rememberRetired({ scope: scope.scope, slot: ours.slot, version, snapshot: replacement });
        info(`${this.kind} store: put back the retired totals of slot ${ours.slot} that the store had lost`);
      });
    }
    for (const record of stored.values()) {
      if (result.get(record.slot) !== record) continue; // being put back: memory keeps ours until that lands
      const key = retiredKey(record.scope, record.slot);
      if (record.snapshot === undefined) this.retiredVersions.set(key, record.version);
      else this.rememberRetired(record);
    }
    return [...result.values()];
  }

  /**
   * Claim, record and release one life. `expiredOnly`: leave it alone while
   * its lease holds (the reaper). Retries a lost compare-and-set on a fresh read.
   */
  private async foldLife(job: FoldJob, expiredOnly: boolean): Promise<void> {
    const claimed = await this.backend.claim(job.ref, expiredOnly);
    if (claimed === 'live' || claimed === 'gone') return;
    await this.options.onFoldStep?.('claimed');
    let dead: Snapshot | undefined;
    try {
      dead = decodeSnapshot(claimed.text, `claimed life ${describeRef(job.ref)}`);
    } catch (error) {
      this.undecodable(`claimed life ${describeRef(job.ref)}`, error);
    }
    if (dead !== undefined && !(sameLife(dead.identity, job.ref) && this.owns(job.ref.scope, dead.identity))) dead = undefined;
    // Nothing decodable to fold, and it was never counted: it is listed as folded with nothing added.
    await this.record(job.ref, dead ?? this.placeholder(job.ref), job.how);
    await this.options.onFoldStep?.('recorded');
    await this.backend.release(job.ref, job.keepTombstone);
    await this.options.onFoldStep?.('released');
  }

  /** Add `dead` to its slot's retired totals by compare-and-set, exactly once. */
  private async record(ref: LifeRef, dead: Snapshot, how: LifeEnd['how']): Promise<void> {
    const key = retiredKey(ref.scope, ref.slot);
    for (let attempt = 0; attempt < MAX_FOLD_ATTEMPTS; attempt++) {
      const current = this.seenRetired.get(key);
      const trusted = current?.snapshot !== undefined && slotKey(current.snapshot.identity) === slotKey(dead.identity);
      const base = trusted ? current?.snapshot : undefined;
      const expected = current !== undefined ? current.version : this.retiredVersions.get(key);
      const summed = foldSnapshot(base, dead, { maxEndpoints: this.maxEndpoints, onConflict: warnMergeConflict });
      if (summed === base) return; // already folded
      const end: LifeEnd = { key: processKey(dead.identity), how, atMs: Date.now(), ...(dead.exit !== undefined ? { exit: dead.exit } : {}) };
      const ends = [...(base?.ends ?? []), end].slice(-MAX_FOLDED_KEYS);
      const next: Snapshot = { ...summed, ends };
      const version = await this.backend.compareAndSetRetired(ref.scope, ref.slot, expected, encodeSnapshot(next));
      if (version !== undefined) {
        this.rememberRetired({ scope: ref.scope, slot: ref.slot, version, snapshot: next });
        return;
      }
      await this.readOnce(); // someone else changed them: fold onto theirs (or put ours back first)
    }
    throw new Error(`${this.kind} store: folding ${processKey(dead.identity)} kept racing with other retirers (${MAX_FOLD_ATTEMPTS} attempts); will retry`);
  }

  private rememberRetired(record: SeenRetired): void {
    const key = retiredKey(record.scope, record.slot);
    this.seenRetired.set(key, record);
    this.retiredVersions.delete(key);
    this.decoded.set(key, { version: record.version as string, snapshot: record.snapshot });
  }

  private fence(life: WriterLife, frozen: string, current: Snapshot): void {
    const before = processKey(life.identity);
    let claimed: Snapshot | undefined;
    try {
      claimed = decodeSnapshot(frozen, `claimed life ${before}`);
    } catch {
      claimed = undefined;
    }
    life.fence(claimed, current, Date.now());
    info(
      `${this.kind} store: ${before} was claimed while presumed dead; it goes on as ${processKey(life.identity)}, counting from the claimed snapshot${claimed ? '' : ' (unreadable: counts since then are dropped)'}`,
    );
  }

  private decodeLife(scope: ScopeRead, life: ListedLife): Snapshot | undefined {
    return this.decode(
      life.key,
      life.version,
      life.text,
      `${this.kind} store life ${describeRef(life)}`,
      (snapshot) => sameLife(snapshot.identity, life) && this.owns(scope.scope, snapshot.identity),
    );
  }

  /**
   * The decoded snapshot of an entry at `version`: from the cache when that
   * version was decoded before (also when it failed: a bad entry is reported
   * once, not at every scrape), else decoded from `text`. Without a text for
   * an unknown version (it changed between two steps of a read), the last
   * decode is served: at worst a moment old, never ahead.
   */
  private decode(key: string, version: string, text: string | undefined, source: string, accept: (snapshot: Snapshot) => boolean): Snapshot | undefined {
    const cached = this.decoded.get(key);
    if (cached !== undefined && (cached.version === version || text === undefined)) return cached.snapshot;
    if (text === undefined) return undefined;
    let snapshot: Snapshot | undefined;
    try {
      // The last decode of the entry lends its label-set objects to this one (see decodeSnapshot).
      snapshot = decodeSnapshot(text, source, cached?.snapshot);
      if (!accept(snapshot)) {
        this.failed('foreign', `${this.kind} store: skipping ${source}: its identity is not this app's (another service or instance, or a copied file)`);
        snapshot = undefined;
      }
    } catch (error) {
      this.undecodable(source, error);
    }
    this.decoded.set(key, { version, snapshot });
    return snapshot;
  }

  /** Count and log an undecodable entry once, naming where it is wrong, never what it contains. */
  private undecodable(source: string, error: unknown): void {
    const where = error instanceof SnapshotFormatError && error.path !== '' ? ` at ${error.path}` : '';
    this.failed('decode', `${this.kind} store: skipping ${source}: not a valid snapshot${where}`);
  }

  private failed(operation: string, message: string): void {
    this.options.selfMetrics?.recordStoreError(this.kind, operation);
    warnOnce(`store-${this.kind}-${operation}`, message);
  }

  /** Whether a scope's data would have expired by itself by now (all its writers silent for the TTL). */
  private expiredOnItsOwn(scope: string, lastSignMs: number, nowMs: number): boolean {
    const ttl = this.backend.expiresAfterMs;
    if (ttl <= 0) return false;
    const active = Math.max(this.scopeActiveAtMs.get(scope) ?? -Infinity, lastSignMs);
    return nowMs - active > ttl - this.backend.leaseMs;
  }

  /** Whether an identity is this store's to serve in `scope`: the owner its layout names, else the configured app. */
  private owns(scope: string, identity: SnapshotIdentity): boolean {
    const owner = this.scopeOwners.get(scope) ?? this.options.self;
    return owner === undefined || (identity.service === owner.service && identity.instance === owner.instance);
  }

  /** An empty snapshot of a life, to list it as folded with nothing added. */
  private placeholder(ref: LifeRef): Snapshot {
    const owner = this.seenRetired.get(retiredKey(ref.scope, ref.slot))?.snapshot?.identity ??
      this.scopeOwners.get(ref.scope) ??
      this.options.self ?? { service: '', instance: '' };
    return { identity: { service: owner.service, instance: owner.instance, ...lifeIdentity(ref) }, writtenAtMs: Date.now(), metrics: [] };
  }

  private reportIdentityConflicts(stored: readonly StoredSnapshot[]): void {
    for (const conflict of findIdentityConflicts(stored)) {
      if (this.reportedConflicts.has(conflict.pairKey)) continue;
      if (this.reportedConflicts.size >= MAX_REPORTED_CONFLICTS) this.reportedConflicts.clear();
      this.reportedConflicts.add(conflict.pairKey);
      const { service, instance, slot } = conflict.newer;
      this.options.selfMetrics?.recordIdentityConflict(instance, service);
      warnOnce(
        `store-${this.kind}-identity-${service}|${instance}`,
        `${this.kind} store: two live processes write as service "${service}" instance "${instance}" slot ${slot} ` +
          `(pid ${conflict.older.pid} started ${new Date(conflict.older.startTimeMs).toISOString()}, ` +
          `pid ${conflict.newer.pid} started ${new Date(conflict.newer.startTimeMs).toISOString()}); ` +
          'give each app instance its own service.instance.id (OTEL_RESOURCE_ATTRIBUTES) or their metrics are added together',
      );
    }
  }

  private writerOf(identity: SnapshotIdentity): WriterLife {
    const key = processKey(identity);
    let life = this.writers.get(key);
    if (life === undefined) {
      life = new WriterLife(identity);
      this.writers.set(key, life);
      if (this.writers.size > MAX_WRITERS) this.writers.delete(this.writers.keys().next().value as string);
    }
    return life;
  }

  private refOf(identity: SnapshotIdentity): LifeRef {
    if (identity.role === 'retired') throw new Error('retired totals are not a life');
    return { scope: this.backend.scopeOf(identity), ...lifeIdentity(identity) };
  }
}

function lifeIdentity(life: Pick<LifeRef, 'role' | 'slot' | 'pid' | 'startTimeMs'>): Pick<SnapshotIdentity, 'role' | 'slot' | 'pid' | 'startTimeMs'> {
  return { role: life.role, slot: life.slot, pid: life.pid, startTimeMs: life.startTimeMs };
}

/** Whether a decoded identity is the life the backend stored it as (guards against copied or foreign entries). */
function sameLife(identity: SnapshotIdentity, life: Pick<LifeRef, 'role' | 'slot' | 'pid' | 'startTimeMs'>): boolean {
  return identity.role === life.role && identity.slot === life.slot && identity.pid === life.pid && Math.round(identity.startTimeMs) === Math.round(life.startTimeMs);
}

function describeRef(life: LifeRef): string {
  return `${life.role} ${life.slot} (pid ${life.pid}, started ${life.startTimeMs})`;
}
