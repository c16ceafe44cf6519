import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';

/**
 * What this host's process table says about the process that wrote a snapshot:
 * - `running`: a running process holds the pid and started when the writer did;
 * - `exited`: that process is a zombie, dead but not yet reaped;
 * - `unseen`: no process here can be the writer. Either it exited, or it runs
 *   in another PID namespace (a sidecar container sharing the store directory
 *   sees neither the pid nor, when the number is taken here, the right process).
 *   The caller must decide from something else, such as how fresh the writer's
 *   file is.
 */
export type WriterSighting = 'running' | 'exited' | 'unseen';

/**
 * Look for the writer of a snapshot (`pid`, and `startTimeMs` as the writer
 * recorded it) in this host's process table.
 *
 * On Linux `/proc/<pid>/stat` tells the pid's holder's start time: a holder
 * that started clearly before or after the writer says it did is another
 * process (a reused pid, or a process of another PID namespace with the same
 * number) and tells nothing about the writer. Elsewhere a pid that answers
 * `process.kill(pid, 0)` is taken as the writer.
 */
export async function sightWriter(pid: number, startTimeMs: number): Promise<WriterSighting> {
  // pid 0 and negative pids address process groups: never signal them.
  if (!Number.isSafeInteger(pid) || pid <= 0) return 'unseen';
  if (pid === process.pid && Math.abs(startTimeMs - performance.timeOrigin) <= START_TIME_SLACK_MS) return 'running';
  if (!pidExists(pid)) return 'unseen';
  if (process.platform !== 'linux') return 'running';
  const holder = await readLinuxProcess(pid);
  if (holder === 'gone') return 'unseen';
  if (holder === undefined || holder.startedMs === undefined) return holder?.zombie === true ? 'exited' : 'running';
  if (Math.abs(holder.startedMs - startTimeMs) > START_TIME_SLACK_MS) return 'unseen';
  return holder.zombie ? 'exited' : 'running';
}

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
const START_TIME_SLACK_MS = 5_000;
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
