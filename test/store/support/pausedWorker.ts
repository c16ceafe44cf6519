/**
 * A child process for the fencing test: a "worker" that counts one request per
 * flush and writes its cumulative snapshot to Redis every 40 ms. The parent
 * pauses it (SIGSTOP) long enough to be presumed dead and folded, resumes it
 * (SIGCONT), then asks for its final count over IPC.
 *
 * Environment: OCX_REDIS_CONFIG (RedisConfig JSON), OCX_SLOT.
 */
import type { RedisConfig } from '../../../src/config/Config';
import { RedisStore } from '../../../src/store/RedisStore';
import { workerIdentity, workerSnapshot } from './redisFixtures';

const config = JSON.parse(process.env['OCX_REDIS_CONFIG'] ?? '{}') as RedisConfig;
const identity = workerIdentity('shop', 'paused', Number(process.env['OCX_SLOT'] ?? '0'), process.pid, Date.now());
const store = RedisStore.fromConfig(config, { service: 'shop', instance: 'paused' }, { leaseMs: 300 });
let count = 0;
let stopping = false;

async function flush(): Promise<boolean> {
  try {
    await store.write(workerSnapshot(identity, count));
    return true;
  } catch {
    return false;
  }
}

async function loop(): Promise<void> {
  while (!stopping) {
    count++;
    await flush();
    await new Promise((ok) => setTimeout(ok, 40));
  }
}

process.on('message', (message) => {
  if (message !== 'stop') return;
  stopping = true;
  void (async () => {
    while (!(await flush())) await new Promise((ok) => setTimeout(ok, 20));
    process.send?.({ count });
    await store.close();
    process.disconnect();
  })();
});

void loop();
