/**
 * Restart analytics where no cluster primary watches the workers (PM2 cluster
 * mode, sidecars under `serve`): derived from what the store has seen of each
 * slot, its lives one after another.
 *
 * Pure: the store (whatever its retirement protocol lists) hands over the
 * lives per slot; this turns them into the same series a primary records:
 * restarts by `reason` and `restart_type`, live workers, and worker states.
 *
 * Rules:
 * - A life that follows another in the same slot is one restart.
 * - Its reason is, first known of: the exit the store recorded for the
 *   previous life (a supervisor's exit code or signal), the exit the new life
 *   was told about (PM2 passes the previous `exit_code` in its environment),
 *   a clean end of the previous life (it removed its own snapshot: a planned
 *   `clean_exit`, as `pm2 reload` does), else `unknown` (a life folded as dead
 *   without exit information, e.g. `kill -9`).
 * - Live workers and `running` states come from the slots whose newest life
 *   holds a live lease.
 */
import { classifyExit, type ExitReason, type RestartType } from './classifyExit';
import type { WorkerState } from './ClusterSupervisor';

/** `reason` of a restart whose cause cannot be known. */
export const UNKNOWN_REASON = 'unknown';

/** How one life of a slot ended, as far as the store knows. */
export type LifeEnd =
  /** Still holding its lease. */
  | 'live'
  /** Ended by itself and removed its snapshot (a clean shutdown). */
  | 'clean'
  /** Its lease lapsed and its snapshot was folded (killed, crashed, host lost). */
  | 'dead';

/** An exit code and signal, as a supervisor reports them. */
export interface ExitInfo {
  readonly code: number | null;
  readonly signal: string | null;
}

/** One life (one process) of a slot. */
export interface SlotLife {
  readonly pid: number;
  /** Epoch ms when the process started: orders the lives of a slot. */
  readonly startTimeMs: number;
  readonly ended: LifeEnd;
  /** How this life exited, when a supervisor told the store. */
  readonly exit?: ExitInfo;
  /** How the life before this one exited, when this life was told (PM2's `exit_code`). */
  readonly previousExit?: ExitInfo;
}

/** What {@link deriveRestarts} reports, in the shape of the primary's own series. */
export interface DerivedRestarts {
  /**
   * Each restart on its own: the slot, the life that replaced another (its
   * pid and start) and why. A reader that keeps counting between reads counts
   * each once, with the reason it first saw.
   */
  readonly events: readonly {
    readonly slot: number;
    readonly pid: number;
    readonly startTimeMs: number;
    readonly reason: ExitReason | typeof UNKNOWN_REASON;
    readonly restartType: RestartType;
    /**
     * The life it replaced still holds its lease (a rolling reload starts the
     * replacement first): its reason is not known yet. A reader that counts
     * each restart once waits until the old life has ended.
     */
    readonly pending: boolean;
  }[];
  /** Restarts per slot, reason and restart type. */
  readonly restarts: readonly { readonly slot: number; readonly reason: ExitReason | typeof UNKNOWN_REASON; readonly restartType: RestartType; readonly count: number }[];
  /** Slots whose newest life is live (`gunicorn_workers`). */
  readonly workers: number;
  /** State per slot whose newest life is live (`gunicorn_worker_state`). */
  readonly states: ReadonlyMap<number, WorkerState>;
}

function reasonOf(previous: SlotLife, next: SlotLife): { reason: ExitReason | typeof UNKNOWN_REASON; restartType: RestartType } {
  const exit = previous.exit ?? next.previousExit;
  if (exit !== undefined) {
    const classified = classifyExit({ ...exit, exitedAfterDisconnect: previous.ended === 'clean' });
    return classified;
  }
  if (previous.ended === 'clean') return { reason: 'clean_exit', restartType: 'planned' };
  // A new life while the old one still holds its lease is a rolling reload starting the replacement first.
  if (previous.ended === 'live') return { reason: UNKNOWN_REASON, restartType: 'planned' };
  return { reason: UNKNOWN_REASON, restartType: 'unplanned' };
}

/** Restarts, live workers and states from the lives seen per slot. */
export function deriveRestarts(livesBySlot: ReadonlyMap<number, readonly SlotLife[]>): DerivedRestarts {
  const counts = new Map<string, { slot: number; reason: ExitReason | typeof UNKNOWN_REASON; restartType: RestartType; count: number }>();
  const states = new Map<number, WorkerState>();
  const events: { slot: number; pid: number; startTimeMs: number; reason: ExitReason | typeof UNKNOWN_REASON; restartType: RestartType; pending: boolean }[] = [];
  for (const [slot, unsorted] of livesBySlot) {
    // The same process seen twice (a re-read) is one life.
    const byPid = new Map<number, SlotLife>();
    for (const life of unsorted) byPid.set(life.pid, life);
    const lives = [...byPid.values()].sort((a, b) => a.startTimeMs - b.startTimeMs || a.pid - b.pid);
    for (let i = 1; i < lives.length; i++) {
      const next = lives[i] as SlotLife;
      const previous = lives[i - 1] as SlotLife;
      const { reason, restartType } = reasonOf(previous, next);
      events.push({ slot, pid: next.pid, startTimeMs: next.startTimeMs, reason, restartType, pending: previous.ended === 'live' });
      const key = `${reason}|${restartType}`;
      const entry = counts.get(`${slot}|${key}`);
      if (entry === undefined) counts.set(`${slot}|${key}`, { slot, reason, restartType, count: 1 });
      else entry.count++;
    }
    const newest = lives[lives.length - 1];
    if (newest?.ended === 'live') states.set(slot, 'running');
  }
  const restarts = [...counts.values()].sort((a, b) => a.slot - b.slot || a.reason.localeCompare(b.reason) || a.restartType.localeCompare(b.restartType));
  return { events, restarts, workers: states.size, states };
}
