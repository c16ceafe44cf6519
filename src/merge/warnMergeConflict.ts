import { warnOnce } from '../self/Logger';
import type { MergeConflict } from './MergeConflict';

/**
 * The {@link MergeConflictListener} of the running package: one warning line
 * per metric for the life of the process, however many snapshots or scrapes
 * disagree about it (a reconfigured histogram is reported at every merge until
 * the old lives are gone). Pass it as `onConflict` to the merge and the fold.
 */
export function warnMergeConflict(conflict: MergeConflict): void {
  warnOnce(`merge-conflict-${conflict.metric}`, `snapshots disagree about ${conflict.detail}`);
}
