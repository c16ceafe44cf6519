/**
 * Vocabulary of worker exits, as the `reason` and `restart_type` labels of the
 * restart counters carry it. Bounded on purpose: labels must never grow with
 * whatever a process happens to exit with.
 *
 * reason:
 * - `clean_exit`  exit code 0
 * - `crash`       non-zero exit code (an uncaught exception exits with 1)
 * - `sigkill` `sigterm` `sigint` `sighup` `sigquit` `sigabrt` `sigsegv`: killed by that signal
 * - `signal_other` killed by any other signal
 *
 * restart_type:
 * - `planned`    the primary asked for it (`worker.disconnect()` / `worker.kill()`,
 *                which Node reports as `exitedAfterDisconnect`)
 * - `unplanned`  anything else
 */
export const EXIT_REASONS = ['clean_exit', 'crash', 'sigkill', 'sigterm', 'sigint', 'sighup', 'sigquit', 'sigabrt', 'sigsegv', 'signal_other'] as const;

/** One value of the `reason` label. */
export type ExitReason = (typeof EXIT_REASONS)[number];

/** One value of the `restart_type` label. */
export type RestartType = 'planned' | 'unplanned';

/** How a worker exited, as Node's cluster 'exit' event reports it. */
export interface WorkerExit {
  readonly code: number | null;
  readonly signal: string | null;
  readonly exitedAfterDisconnect: boolean;
}

const NAMED_SIGNALS: ReadonlySet<string> = new Set(['sigkill', 'sigterm', 'sigint', 'sighup', 'sigquit', 'sigabrt', 'sigsegv']);

/** Map a worker exit onto the bounded label vocabulary. */
export function classifyExit(exit: WorkerExit): { reason: ExitReason; restartType: RestartType } {
  const restartType: RestartType = exit.exitedAfterDisconnect ? 'planned' : 'unplanned';
  if (exit.signal) {
    const lower = exit.signal.toLowerCase();
    const reason = (NAMED_SIGNALS.has(lower) ? lower : 'signal_other') as ExitReason;
    return { reason, restartType };
  }
  return { reason: exit.code === 0 ? 'clean_exit' : 'crash', restartType };
}
