import type { Histogram } from '@opentelemetry/sdk-metrics';
import type { SnapshotExemplar } from './Snapshot';

/**
 * An OpenTelemetry histogram value that also carries its buckets' exemplars.
 *
 * sdk-metrics data points have no exemplar field, but every stage here hands
 * the same objects on (the reader merges producers' points by reference), so
 * the exemplars ride along as one extra property on the value: the worker's
 * producer sets it, the snapshot conversion reads it, the merge sets it again
 * for the exposition. Readers that do not know it (exporters) ignore it.
 */
export type HistogramWithExemplars = Histogram & { exemplars?: readonly SnapshotExemplar[] };

/** The exemplars a histogram value carries, or undefined. */
export function exemplarsOf(histogram: Histogram): readonly SnapshotExemplar[] | undefined {
  const exemplars = (histogram as HistogramWithExemplars).exemplars;
  return exemplars !== undefined && exemplars.length > 0 ? exemplars : undefined;
}
