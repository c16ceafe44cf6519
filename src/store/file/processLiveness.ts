import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';

/**
 * Whether a process that started no later than `startedBeforeMs` (plus slack)
 * runs under `pid` here: for lock and claim holders, which record only their
 * pid. A zombie is dead. False also for a pid this host cannot see.
 */
export async function isProcessAlive(pid: number, startedBeforeMs: number): Promise<boolean> {
  // pid 0 and negative pids address process groups: never signal them.
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  if (!pidExists(pid)) return false;
  if (process.platform !== 'linux') return true;
  const holder = await readLinuxProcess(pid);
  if (holder === 'gone') return false;
  if (holder === undefined) return true;
  if (holder.zombie) return false;
  return holder.startedMs === undefined || holder.startedMs <= startedBeforeMs + START_TIME_SLACK_MS;
}

/**
 * The start time of the process holding `pid` on this host (Linux /proc), ms
 * since the epoch; undefined where /proc does not tell. With the pid it
 * identifies one process life: a reused pid shows a different start time.
 */
export function processStartTimeMs(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const startTicks = Number(fields[19]);
  const boot = readBootTimeMs();
  return boot === undefined || !Number.isFinite(startTicks) ? undefined : boot + (startTicks * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** Whether a process with this pid exists on this host (EPERM: it does, another user's). */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Slack between the kernel's view of a start time and the writer's: boot time
 * is whole seconds, start ticks are 10 ms, and the writer takes its own time a
 * little after exec. Pid reuse shows up as minutes or more.
 */
export const START_TIME_SLACK_MS = 5_000;
/** USER_HZ: the unit of /proc start times; 100 on every mainstream Linux build. */
const CLOCK_TICKS_PER_SECOND = 100;

let bootTimeMs: number | undefined | null;

/** What /proc says about a pid's current holder. */
interface LinuxProcess {
  readonly zombie: boolean;
  /** Undefined when /proc does not tell (no boot time, odd stat line). */
  readonly startedMs: number | undefined;
}

/** The pid's holder; 'gone' when it vanished since the signal; undefined when /proc cannot be read (hardened): trust the signal. */
async function readLinuxProcess(pid: number): Promise<LinuxProcess | 'gone' | undefined> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'gone' : undefined;
  }
  // The command name is in parentheses and may contain spaces: fields start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const zombie = state === 'Z' || state === 'X';
  const startTicks = Number(fields[19]);
  const boot = readBootTimeMs();
  const startedMs = boot === undefined || !Number.isFinite(startTicks) ? undefined : boot + (startTicks * 1000) / CLOCK_TICKS_PER_SECOND;
  return { zombie, startedMs };
}

function readBootTimeMs(): number | undefined {
  if (bootTimeMs === undefined) {
    try {
      const match = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
      bootTimeMs = match === null ? null : Number(match[1]) * 1000;
    } catch {
      bootTimeMs = null;
    }
  }
  return bootTimeMs ?? undefined;
}
