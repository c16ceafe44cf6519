/**
 * A child process for the fencing case of the contract suite: a "worker" that
 * counts one request per flush and writes its cumulative snapshot every 40 ms
 * with a 300 ms lease. The parent pauses it (SIGSTOP) long enough to be
 * presumed dead and folded, resumes it (SIGCONT), then asks for its final
 * count over IPC.
 *
 * Environment: OCX_BACKEND (file | redis), OCX_DIR or OCX_REDIS_CONFIG, OCX_SLOT.
 */
import type { RedisConfig } from '../../../src/config/Config';
import { Retirement } from '../../../src/retirement/Retirement';
import { FileBackend } from '../../../src/store/file/FileBackend';
import { RedisBackend } from '../../../src/store/redis/RedisBackend';
import { workerIdentity, workerSnapshot } from './redisFixtures';

const self = { service: 'shop', instance: 'host-a' };
const identity = workerIdentity(self.service, self.instance, Number(process.env['OCX_SLOT'] ?? '0'), process.pid, Date.now());
const backend =
  process.env['OCX_BACKEND'] === 'file'
    ? new FileBackend({ directory: process.env['OCX_DIR'] ?? '', leaseMs: 300 })
    : RedisBackend.fromConfig(JSON.parse(process.env['OCX_REDIS_CONFIG'] ?? '{}') as RedisConfig, self, { leaseMs: 300 });
const store = new Retirement(backend, { self });
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
