/**
 * The restart-reason vocabulary of `otel-cluster-exporter run`: why the
 * supervisor itself ended a worker, as the `reason` and `restart_type` labels
 * of the restart counters carry it. One declarative list; the README's
 * Supervisor section documents exactly these entries.
 *
 * A worker that ends on its own keeps the reasons of {@link EXIT_REASONS}
 * (`crash`, `clean_exit`, `sigkill`, ...): the supervisor only names the exits
 * it caused. Master signals that start or stop no worker (TTIN, USR1, USR2)
 * are counted once each on `gunicorn_master_worker_restart_total`, as upstream
 * counts master signals.
 */
import type { RestartType } from '../primary/classifyExit';

/** One reason the supervisor can give for ending (or, for `ttin`, adding) a worker. */
export interface SupervisorReasonDefinition {
  readonly reason: string;
  /** `planned` unless the worker misbehaved (a hung worker is not a plan). */
  readonly restartType: RestartType;
  /** What triggers it, for the documentation. */
  readonly trigger: string;
}

/** Every reason the supervisor gives, in documentation order. */
export const SUPERVISOR_REASONS = [
  { reason: 'max_requests', restartType: 'planned', trigger: 'the worker served --max-requests (+ jitter) responses; replaced first, then retired' },
  { reason: 'memory', restartType: 'planned', trigger: "the worker's RSS stayed above --max-memory for 3 samples a second apart; replaced first, then retired" },
  { reason: 'timeout', restartType: 'unplanned', trigger: "the worker's event loop did not beat for --timeout seconds; SIGKILLed and replaced" },
  { reason: 'hup', restartType: 'planned', trigger: 'SIGHUP to the master: rolling reload, each worker replaced once its successor listens' },
  { reason: 'ttou', restartType: 'planned', trigger: 'SIGTTOU to the master: the highest slot retired (never below one worker)' },
  { reason: 'int', restartType: 'planned', trigger: 'SIGINT to the master: graceful stop of every worker' },
  { reason: 'term', restartType: 'planned', trigger: 'SIGTERM to the master: graceful stop of every worker' },
  { reason: 'quit', restartType: 'planned', trigger: 'SIGQUIT to the master: every worker SIGKILLed at once' },
  { reason: 'ttin', restartType: 'planned', trigger: 'SIGTTIN to the master: one worker added (counted once on the master counter, no exit)' },
  { reason: 'usr1', restartType: 'planned', trigger: 'SIGUSR1 to the master: counted and logged; nothing to reopen (the master writes to stdout/stderr only)' },
  { reason: 'usr2', restartType: 'planned', trigger: 'SIGUSR2 to the master: counted and logged; re-exec is not supported (use HUP)' },
] as const satisfies readonly SupervisorReasonDefinition[];

/** One value of the supervisor's `reason` label. */
export type SupervisorReason = (typeof SUPERVISOR_REASONS)[number]['reason'];

/** The restart type a supervisor reason carries. */
export function restartTypeOf(reason: SupervisorReason): RestartType {
  return SUPERVISOR_REASONS.find((entry) => entry.reason === reason)?.restartType ?? 'planned';
}
