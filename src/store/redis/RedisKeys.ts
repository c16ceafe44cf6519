import type { LifeRef } from '../LifeBackend';

/**
 * The Redis key layout of {@link ./RedisBackend}. Keys are only ever *built*
 * from identities, never parsed back (a prefix or a service name may contain
 * `:`); what a reader needs to enumerate lives in index structures:
 *
 * ```text
 * <P>:instances                            ZSET  "<svc>|<inst>", score = last heartbeat (ms)
 * <P>:{<svc>|<inst>}:idx                   ZSET  life members "<r>:<slot>:<pid>:<startMs>", score = version
 * <P>:{<svc>|<inst>}:<r>:<slot>:<pid>:<startMs>   HASH  s = snapshot text, c = claimed, f = folded (tombstone)
 * <P>:{<svc>|<inst>}:l:<r>:<slot>:<pid>:<startMs> STRING lease: renewal time (PX lease)
 * <P>:{<svc>|<inst>}:retired               HASH  slot -> retired totals text
 * <P>:{<svc>|<inst>}:rv                    HASH  slot -> version of that text (compare-and-set)
 * ```
 *
 * `<r>` is `w` for a worker and `p` for a primary. `<svc>` and `<inst>` are
 * `encodeURIComponent`-encoded, so `|`, `:`, `{` and `}` inside them cannot
 * break the layout. The `{...}` part is a Redis Cluster hash tag: every key of
 * one instance lives in one slot, so each script and each read of an instance
 * touches one slot.
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

  /** The service and instance of a registry member this layout built; undefined for anything else. */
  ownerOf(instanceMember: string): { service: string; instance: string } | undefined {
    const parts = instanceMember.split('|');
    if (parts.length !== 2) return undefined;
    try {
      return { service: decodeURIComponent(parts[0] as string), instance: decodeURIComponent(parts[1] as string) };
    } catch {
      return undefined;
    }
  }

  /** Registry members of one service start with this. */
  servicePrefix(service: string): string {
    return `${encodeURIComponent(service)}|`;
  }

  /** The index of one instance's lives. */
  index(instanceMember: string): string {
    return `${this.base(instanceMember)}idx`;
  }

  /** The hash of one instance's retired totals, one field per slot. */
  retired(instanceMember: string): string {
    return `${this.base(instanceMember)}retired`;
  }

  /** The versions of {@link retired}'s fields. */
  retiredVersions(instanceMember: string): string {
    return `${this.base(instanceMember)}rv`;
  }

  /** The index member of one life. */
  lifeMember(life: Pick<LifeRef, 'role' | 'slot' | 'pid' | 'startTimeMs'>): string {
    return `${life.role === 'primary' ? 'p' : 'w'}:${life.slot}:${life.pid}:${life.startTimeMs}`;
  }

  /** A life member's parts; undefined for anything this layout did not build. */
  parseLifeMember(member: string): Pick<LifeRef, 'role' | 'slot' | 'pid' | 'startTimeMs'> | undefined {
    const match = /^([wp]):(-?\d+):(\d+):(\d+(?:\.\d+)?)$/.exec(member);
    if (match === null) return undefined;
    return { role: match[1] === 'p' ? 'primary' : 'worker', slot: Number(match[2]), pid: Number(match[3]), startTimeMs: Number(match[4]) };
  }

  /** The hash of a life: its snapshot, and whether it was claimed or folded. */
  life(instanceMember: string, lifeMember: string): string {
    return this.base(instanceMember) + lifeMember;
  }

  /** The lease key of a life: present while the process writes or renews. */
  lease(instanceMember: string, lifeMember: string): string {
    return `${this.base(instanceMember)}l:${lifeMember}`;
  }

  private base(instanceMember: string): string {
    return `${this.prefix}:{${instanceMember}}:`;
  }
}
