/**
 * Two snapshots disagree about a metric, so the older one's data was left out
 * (`kind`) or counted in other buckets (`boundaries`). Reported, never thrown:
 * the rest of the merged view is still served.
 */
export interface MergeConflict {
  /** The metric's (OpenTelemetry) name. */
  readonly metric: string;
  /**
   * `kind`: the metric has another kind (counter, gauge, ...) in a newer
   * snapshot; this snapshot's data of it was left out.
   * `boundaries`: its histogram buckets differ from those of a newer snapshot;
   * this snapshot's counts were re-bucketed into the newer boundaries (count
   * and sum exact, each bucket moved to the first newer bound at or above it).
   */
  readonly reason: 'kind' | 'boundaries';
  /** processKey() of the snapshot whose data was left out or re-bucketed. */
  readonly process: string;
  /** A readable statement of both sides, for a log line. */
  readonly detail: string;
}

/** Receives each {@link MergeConflict}; callers usually count it and warnOnce. */
export type MergeConflictListener = (conflict: MergeConflict) => void;
