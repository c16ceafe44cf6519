/**
 * Data the merge had to leave out because two snapshots disagree about a
 * metric. Reported, never thrown: the rest of the merged view is still served.
 */
export interface MergeConflict {
  /** The metric's (OpenTelemetry) name. */
  readonly metric: string;
  /**
   * `kind`: the metric has another kind (counter, gauge, ...) in a newer snapshot.
   * `boundaries`: its histogram buckets differ from those of a newer snapshot,
   * so the counts cannot be added bucket by bucket.
   */
  readonly reason: 'kind' | 'boundaries';
  /** processKey() of the snapshot whose data was left out. */
  readonly process: string;
  /** A readable statement of both sides, for a log line. */
  readonly detail: string;
}

/** Receives each {@link MergeConflict}; callers usually count it and warnOnce. */
export type MergeConflictListener = (conflict: MergeConflict) => void;
