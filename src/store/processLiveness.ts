import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';

/**
 * Whether the process that wrote a snapshot still runs on this host.
 *
 * `process.kill(pid, 0)` answers for the pid (EPERM means it exists but belongs
 * to another user). A pid can outlive its process, though: a zombie not yet
 * reaped, or a pid reused after a container restart. On Linux `/proc/<pid>/stat`
 * settles both: a zombie is dead, and a process that started clearly after the
 * snapshot's writer says it started is somebody else.
 */
export async function isProcessAlive(pid: number, startTimeMs: number): Promise<boolean> {
  // pid 0 and negative pids address process groups: never signal them.
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  if (!pidExists(pid)) return false;
  if (process.platform !== 'linux') return true;
  return linuxProcessMatches(pid, startTimeMs);
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
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

async function linuxProcessMatches(pid: number, startTimeMs: number): Promise<boolean> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    // Gone between the signal and the read; anything else (a hardened /proc): trust the signal.
    return (error as NodeJS.ErrnoException).code !== 'ENOENT';
  }
  // The command name is in parentheses and may contain spaces: fields start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  if (state === 'Z' || state === 'X') return false;
  const startTicks = Number(fields[19]);
  const boot = readBootTimeMs();
  if (boot === undefined || !Number.isFinite(startTicks)) return true;
  const startedMs = boot + (startTicks * 1000) / CLOCK_TICKS_PER_SECOND;
  return startedMs <= startTimeMs + START_TIME_SLACK_MS;
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
