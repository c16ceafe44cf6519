/**
 * The unit of persistence: one process's cumulative metrics at one moment.
 *
 * A snapshot is plain data (no OpenTelemetry classes) so that it can be
 * encoded by {@link ../snapshot/SnapshotCodec}, written by any store and merged
 * by a process that never ran the code that recorded it.
 */

/** What kind of process wrote a snapshot. */
export type SnapshotRole =
  /** A process that serves application traffic (cluster worker, PM2 instance, single process). */
  | 'worker'
  /** The cluster primary: restart counters, worker states, live worker count. */
  | 'primary'
  /** Folded totals of a slot's dead workers (counters and histograms only). */
  | 'retired';

/** Who wrote a snapshot. Enough to tell every process of every host apart. */
export interface SnapshotIdentity {
  /** `service.name` (OTEL_SERVICE_NAME). */
  readonly service: string;
  /** `service.instance.id`: one app instance (host, pod). Defaults to the host name. */
  readonly instance: string;
  /** Stable worker slot, 0-based; becomes the `worker_id` label. -1 for the primary. */
  readonly slot: number;
  readonly pid: number;
  /** Process start time, ms since the epoch; with pid it identifies one process life. */
  readonly startTimeMs: number;
  readonly role: SnapshotRole;
}

/**
 * One observation kept as an example of its bucket, tied to the trace that
 * was active when it was recorded (an OpenMetrics / OTLP exemplar).
 */
export interface SnapshotExemplar {
  /** Index into the histogram's `counts` of the bucket the observation fell in. */
  readonly bucket: number;
  /** The observed value (seconds for request durations). */
  readonly value: number;
  /** When it was observed, ms since the epoch. */
  readonly timeMs: number;
  /** W3C trace id: 32 lowercase hex digits. */
  readonly traceId: string;
  /** W3C span id: 16 lowercase hex digits. */
  readonly spanId: string;
}

/** An explicit-bucket histogram value; `counts` has `boundaries.length + 1` entries. */
export interface HistogramValue {
  readonly count: number;
  readonly sum: number;
  readonly counts: readonly number[];
  readonly min?: number;
  readonly max?: number;
  /**
   * At most one exemplar per bucket (the latest), in bucket order; absent when
   * none was recorded (no active sampled trace).
   */
  readonly exemplars?: readonly SnapshotExemplar[];
}

/** Attributes of one series; values are already strings, as they appear as labels. */
export type SeriesAttributes = Readonly<Record<string, string>>;

/** One series of a metric. */
export interface SnapshotPoint {
  readonly attributes: SeriesAttributes;
  /** When this cumulative series started counting, ms since the epoch. */
  readonly startTimeMs: number;
  /** A number for counters, up-down counters and gauges; a histogram value otherwise. */
  readonly value: number | HistogramValue;
}

/** How a metric's points merge: see {@link ../merge/SnapshotMerger}. */
export type SnapshotMetricKind = 'counter' | 'updowncounter' | 'gauge' | 'histogram';

/** One metric (instrument) of a snapshot. */
export interface SnapshotMetric {
  readonly name: string;
  readonly description: string;
  readonly unit: string;
  readonly kind: SnapshotMetricKind;
  /** `int` or `double`, as the OpenTelemetry instrument declared it. */
  readonly valueType: 'int' | 'double';
  /** Histogram bucket boundaries; absent for other kinds. */
  readonly boundaries?: readonly number[];
  readonly points: readonly SnapshotPoint[];
}

/** One process's cumulative metrics. */
export interface Snapshot {
  readonly identity: SnapshotIdentity;
  /** When the snapshot was taken, ms since the epoch. */
  readonly writtenAtMs: number;
  readonly metrics: readonly SnapshotMetric[];
  /**
   * For `retired` snapshots: the process keys (see {@link processKey}) already
   * folded in, so a fold that is retried after a crash never counts twice.
   */
  readonly folded?: readonly string[];
  /**
   * For `retired` snapshots: how each folded life ended, oldest first (as
   * many as `folded` keeps). A new life in a slot that had another is a restart.
   */
  readonly ends?: readonly LifeEnd[];
  /**
   * For `worker` snapshots written as the process exits: how it exited (its
   * exit code, or the signal that ended it). Absent while it runs, and for a
   * process that could not write at its end (`kill -9`).
   */
  readonly exit?: ProcessExit;
}

/** How a process exited, as its own exit hook saw it. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: string | null;
}

/** How a life that was folded into its slot ended. */
export interface LifeEnd {
  /** The life's {@link processKey}. */
  readonly key: string;
  /**
   * `exited`: its primary saw the process exit; `expired`: its lease ran out
   * (no primary watches it, or it hung); `removed`: dropped without counting
   * (a process that became a primary); `lost`: the store lost it and a reader
   * put back the last snapshot it had seen.
   */
  readonly how: 'exited' | 'expired' | 'removed' | 'lost';
  /** When it was folded, ms since the epoch. */
  readonly atMs: number;
  /** How the process exited, when its last snapshot said so (see {@link Snapshot.exit}). */
  readonly exit?: ProcessExit;
}

/** A snapshot as read back from a store, with what the store knows of its writer. */
export interface StoredSnapshot {
  readonly snapshot: Snapshot;
  /** False when the writer is known to be gone (exited pid, expired lease). */
  readonly live: boolean;
  /**
   * When the writer last confirmed this snapshot (a write, or a lease renewal
   * of a flush that had nothing new), if later than `writtenAtMs`.
   */
  readonly renewedAtMs?: number;
}

/** The key of one process life: stable across its snapshots, unique across restarts. */
export function processKey(identity: SnapshotIdentity): string {
  return `${identity.service}|${identity.instance}|${identity.slot}|${identity.pid}|${identity.startTimeMs}`;
}

/** The key of one worker slot of one instance: what folded totals belong to. */
export function slotKey(identity: Pick<SnapshotIdentity, 'service' | 'instance' | 'slot'>): string {
  return `${identity.service}|${identity.instance}|${identity.slot}`;
}
