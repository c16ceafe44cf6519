import type { SnapshotIdentity } from '../../snapshot/Snapshot';

/**
 * The Redis key layout of {@link ../RedisStore}. Keys are only ever *built*
 * from identities, never parsed back (a prefix or a service name may contain
 * `:`); what a reader needs to enumerate lives in index structures:
 *
 * ```text
 * <prefix>:instances                      ZSET  member "<svc>|<inst>", score = last heartbeat (ms)
 * <prefix>:{<svc>|<inst>}:idx             SET   "w:<slot>:<pid>:<startMs>" per live or unretired process
 * <prefix>:{<svc>|<inst>}:w:<slot>:<pid>:<startMs>   STRING encodeSnapshot() text   (TTL ttlSeconds)
 * <prefix>:{<svc>|<inst>}:l:<slot>:<pid>:<startMs>   STRING lease "1"               (PX lease)
 * <prefix>:{<svc>|<inst>}:t:<slot>:<pid>:<startMs>   STRING tombstone: writtenAtMs folded (fencing)
 * <prefix>:{<svc>|<inst>}:retired         HASH  field "<slot>" = folded retired snapshot text
 * ```
 *
 * `<svc>` and `<inst>` are `encodeURIComponent`-encoded, so `|`, `:`, `{` and
 * `}` inside them cannot break the layout. The `{...}` part is a Redis Cluster
 * hash tag: every key of one instance lives in one slot, so one worker's write,
 * a retire and a read of a whole instance are each a single-slot script.
 */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  /** The sorted set of every instance that wrote under this prefix. */
  registry(): string {
    return `${this.prefix}:instances`;
  }

  /** The registry member (and hash tag) of one service instance. */
  instanceMember(service: string, instance: string): string {
    return `${encodeURIComponent(service)}|${encodeURIComponent(instance)}`;
  }

  /** Registry members of one service start with this. */
  servicePrefix(service: string): string {
    return `${encodeURIComponent(service)}|`;
  }

  /** The index set of one instance's process members. */
  index(instanceMember: string): string {
    return `${this.base(instanceMember)}idx`;
  }

  /** The hash of one instance's retired (folded) snapshots, one field per slot. */
  retired(instanceMember: string): string {
    return `${this.base(instanceMember)}retired`;
  }

  /** The index member of one process life. */
  processMember(identity: SnapshotIdentity): string {
    return `w:${identity.slot}:${identity.pid}:${identity.startTimeMs}`;
  }

  /** The retired hash field of a slot. */
  retiredField(slot: number): string {
    return String(slot);
  }

  /** The snapshot key of a process member. */
  snapshot(instanceMember: string, processMember: string): string {
    return this.base(instanceMember) + processMember;
  }

  /** The lease key of a process member: present while the process heartbeats. */
  lease(instanceMember: string, processMember: string): string {
    return `${this.base(instanceMember)}l${processMember.slice(1)}`;
  }

  /** The tombstone key of a process member: present once its snapshot was folded. */
  tombstone(instanceMember: string, processMember: string): string {
    return `${this.base(instanceMember)}t${processMember.slice(1)}`;
  }

  /** The instance member an identity belongs to. */
  instanceOf(identity: Pick<SnapshotIdentity, 'service' | 'instance'>): string {
    return this.instanceMember(identity.service, identity.instance);
  }

  private base(instanceMember: string): string {
    return `${this.prefix}:{${instanceMember}}:`;
  }
}
