import { LuaScript } from './LuaScript';

/**
 * The Redis backend's server-side primitives. Each runs atomically on the one
 * cluster slot of an instance (see {@link RedisKeys}). None of them knows how
 * totals fold: that is the retirement protocol's (retirement/Retirement.ts).
 */

/** Refresh (or, with ttl 0, drop) the expiry of a key: the heartbeat of every write. */
const EXPIRE = `
local function expire(key, ttl)
  if ttl > 0 then redis.call('PEXPIRE', key, ttl) else redis.call('PERSIST', key) end
end
`;

/**
 * A life's flush: refused when the life was claimed (returns the frozen text),
 * otherwise the snapshot, its version in the index, the lease and the TTLs of
 * the instance's keys, all together.
 *
 * KEYS: life, lease, index, retired, retired versions.
 * ARGV: text, version, ttlMs (0 = none), leaseMs, member, now.
 * Returns `{-1, frozen text}` when fenced, else `{1 if newly indexed else 0}`.
 */
export const WRITE_SCRIPT = new LuaScript(
  'write',
  `${EXPIRE}
if redis.call('HEXISTS', KEYS[1], 'c') == 1 then return {-1, redis.call('HGET', KEYS[1], 's') or ''} end
local ttl = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 's', ARGV[1])
expire(KEYS[1], ttl)
redis.call('SET', KEYS[2], ARGV[6], 'PX', ARGV[4])
local added = redis.call('ZADD', KEYS[3], ARGV[2], ARGV[5])
expire(KEYS[3], ttl)
if redis.call('EXISTS', KEYS[4]) == 1 then expire(KEYS[4], ttl) end
if redis.call('EXISTS', KEYS[5]) == 1 then expire(KEYS[5], ttl) end
return {added}
`,
);

/**
 * A flush with nothing new: renew the lease and the TTLs only.
 *
 * KEYS: life, lease, index, retired, retired versions. ARGV: ttlMs, leaseMs, now.
 * Returns `{-1, frozen text}` when fenced, `{0}` when the life is missing (emptied Redis), else `{1}`.
 */
export const RENEW_SCRIPT = new LuaScript(
  'renew',
  `${EXPIRE}
if redis.call('HEXISTS', KEYS[1], 'c') == 1 then return {-1, redis.call('HGET', KEYS[1], 's') or ''} end
if redis.call('EXISTS', KEYS[1]) == 0 then return {0} end
local ttl = tonumber(ARGV[1])
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[2])
for i = 1, 5 do
  if i ~= 2 and redis.call('EXISTS', KEYS[i]) == 1 then expire(KEYS[i], ttl) end
end
return {1}
`,
);

/**
 * Freeze a life. KEYS: life, lease. ARGV: '1' to leave a life with a valid lease alone.
 * Returns `{1, text}` claimed (now or before), `{2}` live, `{0}` gone or already folded.
 */
export const CLAIM_SCRIPT = new LuaScript(
  'claim',
  `
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HEXISTS', KEYS[1], 'f') == 1 then return {0} end
if redis.call('HEXISTS', KEYS[1], 'c') == 0 then
  if ARGV[1] == '1' and redis.call('EXISTS', KEYS[2]) == 1 then return {2} end
  redis.call('HSET', KEYS[1], 'c', '1')
  redis.call('DEL', KEYS[2])
end
return {1, redis.call('HGET', KEYS[1], 's') or ''}
`,
);

/**
 * Put back a lost life as claimed, unless any record of it exists.
 * KEYS: life, index. ARGV: text, version, member, ttlMs. Returns 1 written, 0 not.
 */
export const RESTORE_CLAIM_SCRIPT = new LuaScript(
  'restore-claim',
  `${EXPIRE}
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local ttl = tonumber(ARGV[4])
redis.call('HSET', KEYS[1], 's', ARGV[1], 'c', '1')
expire(KEYS[1], ttl)
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
expire(KEYS[2], ttl)
return 1
`,
);

/**
 * Drop a folded life from the index; keep its frozen text as a tombstone (for
 * fencing a writer that may still run) or delete it.
 * KEYS: life, lease, index. ARGV: member, '1' to keep a tombstone, tombstone ttlMs.
 */
export const RELEASE_SCRIPT = new LuaScript(
  'release',
  `
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('DEL', KEYS[2])
if ARGV[2] == '1' then
  if redis.call('EXISTS', KEYS[1]) == 1 then
    redis.call('HSET', KEYS[1], 'c', '1', 'f', '1')
    redis.call('PEXPIRE', KEYS[1], ARGV[3])
  end
else
  redis.call('DEL', KEYS[1])
end
return 1
`,
);

/**
 * Compare-and-set of a slot's retired totals on their version.
 * KEYS: retired, retired versions. ARGV: slot, expected version ('' = absent), text, new version, ttlMs.
 * Returns 1 written, 0 changed meanwhile.
 */
export const SET_RETIRED_SCRIPT = new LuaScript(
  'set-retired',
  `${EXPIRE}
local current = redis.call('HGET', KEYS[2], ARGV[1]) or ''
if current ~= ARGV[2] then return 0 end
local ttl = tonumber(ARGV[5])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[4])
expire(KEYS[1], ttl)
expire(KEYS[2], ttl)
return 1
`,
);
