import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

/** A standalone, Sentinel-managed or cluster connection: the calls the store makes exist on all three. */
export type RedisClient = Redis | Cluster;

/**
 * A Lua script run by SHA (`EVALSHA`), falling back to `EVAL` when the server
 * does not know it yet (first call, restart, `SCRIPT FLUSH`). Running the
 * script is one command and one round trip either way in the steady state.
 */
export class LuaScript {
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** Run with these keys (all in one cluster slot) and arguments. */
  async run(client: RedisClient, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return client.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}
