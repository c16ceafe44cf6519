import { LuaScript } from './LuaScript';

/**
 * The store's server-side steps. Each runs atomically on the one slot of an
 * instance (see {@link RedisKeys}); together they implement the fencing
 * protocol described in {@link ../RedisStore}.
 */

/**
 * A worker's flush: refuse if the process was folded (tombstone), otherwise
 * write the snapshot with its TTL, refresh the lease, index the process and
 * refresh the instance's index and retired-hash TTLs (the heartbeat).
 *
 * KEYS: snapshot, lease, tombstone, index, retired hash.
 * ARGV: text, ttlMs (0 = none), leaseMs, process member, retired fields to check...
 * Returns `{-1, tombstone}` when fenced, else `{addedToIndex, missingField...}`.
 */
export const WRITE_SCRIPT = new LuaScript('write', `
local tomb = redis.call('GET', KEYS[3])
if tomb then return {-1, tomb} end
local ttl = tonumber(ARGV[2])
if ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
else
  redis.call('SET', KEYS[1], ARGV[1])
end
redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
local added = redis.call('SADD', KEYS[4], ARGV[4])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[4], ttl)
  redis.call('PEXPIRE', KEYS[5], ttl)
else
  redis.call('PERSIST', KEYS[4])
  redis.call('PERSIST', KEYS[5])
end
local result = {added}
for i = 5, #ARGV do
  if redis.call('HEXISTS', KEYS[5], ARGV[i]) == 0 then result[#result + 1] = ARGV[i] end
end
return result
`);

/**
 * Compare-and-set of one hash field, shared by the retire and restore scripts:
 * write `text` only if the field still holds what the caller read (SHA-1 of it,
 * '' for absent), then refresh the hash's TTL (0 keeps it forever).
 */
const SET_FIELD_IF_UNCHANGED = `
local function set_field_if_unchanged(key, field, expected_sha, text, ttl)
  local current = redis.call('HGET', key, field)
  local sha = ''
  if current then sha = redis.sha1hex(current) end
  if sha ~= expected_sha then return false end
  redis.call('HSET', key, field, text)
  ttl = tonumber(ttl)
  if ttl > 0 then redis.call('PEXPIRE', key, ttl) end
  return true
end
`;

/**
 * Fold a dead process into its slot: compare-and-set on both the snapshot that
 * was read and the retired value it was folded into (SHA-1 of each), then in
 * one step write the new retired value, drop the snapshot and lease, leave a
 * tombstone naming the folded snapshot and unindex the process.
 *
 * KEYS: snapshot, lease, tombstone, index, retired hash.
 * ARGV: snapshot sha, field, retired sha ('' = absent), new retired text, ttlMs,
 *       tombstone value, tombstone ttlMs, process member.
 * Returns 1 folded, 0 nothing to fold (already gone), -1 conflict (re-read and retry).
 */
export const RETIRE_SCRIPT = new LuaScript('retire', `${SET_FIELD_IF_UNCHANGED}
local snap = redis.call('GET', KEYS[1])
if not snap then
  redis.call('SREM', KEYS[4], ARGV[8])
  return 0
end
if redis.sha1hex(snap) ~= ARGV[1] then return -1 end
if not set_field_if_unchanged(KEYS[5], ARGV[2], ARGV[3], ARGV[4], ARGV[5]) then return -1 end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('SET', KEYS[3], ARGV[6], 'PX', ARGV[7])
redis.call('SREM', KEYS[4], ARGV[8])
return 1
`);

/**
 * Put back a retired value (and the tombstones written with it) that went
 * missing, e.g. after FLUSHALL, but only while the instance is alive (its index
 * or its retired hash exists: both expire together when every process of the
 * instance has been silent for the TTL, and an instance that expired stays
 * expired) and only over the exact value
 * the caller decided to replace (compare-and-set on its SHA-1).
 *
 * KEYS: retired hash, index, tombstone...
 * ARGV: field, expected sha ('' = absent), text, ttlMs, then per tombstone: value, pttl.
 * Returns 1 written, 0 instance gone, -1 conflict.
 */
export const RESTORE_SCRIPT = new LuaScript('restore', `${SET_FIELD_IF_UNCHANGED}
if redis.call('EXISTS', KEYS[2]) == 0 and redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if not set_field_if_unchanged(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4]) then return -1 end
for i = 3, #KEYS do
  redis.call('SET', KEYS[i], ARGV[2 * i - 1], 'PX', ARGV[2 * i], 'NX')
end
return 1
`);
