import { foldSnapshot, MAX_FOLDED_KEYS } from '../merge/foldSnapshot';
import type { Snapshot } from '../snapshot/Snapshot';

/**
 * What to do when a slot's retired value in the store differs from the one this
 * reader last saw or wrote (`ours`):
 * - `keep`: Redis already holds ours or a later fold of it (a retired value
 *   never goes backwards);
 * - `ours`: Redis is missing it or holds an earlier fold of ours (emptied and
 *   partly rebuilt): put ours back;
 * - `combine`: Redis holds folds made after it was emptied, none of which ours
 *   contains: the two are disjoint sums, write both added together;
 * - `conflict`: the two overlap without one containing the other; left as is.
 *
 * Decided on the `folded` lists alone (a fold only ever appends to them). Pure.
 */
export type RetiredDecision = 'keep' | 'ours' | 'combine' | 'conflict';

/** Decide between the stored retired value (`current`, undefined if absent) and ours. */
export function decideRetired(current: readonly string[] | undefined, ours: readonly string[]): RetiredDecision {
  if (current === undefined) return 'ours';
  const newestOurs = ours[ours.length - 1];
  if (newestOurs === undefined || current.includes(newestOurs)) return 'keep';
  const newestCurrent = current[current.length - 1];
  if (newestCurrent === undefined || ours.includes(newestCurrent)) return 'ours';
  const overlap = current.some((key) => ours.includes(key));
  return overlap ? 'conflict' : 'combine';
}

/** The sum of two disjoint retired values of one slot, remembering both folded lists. Pure. */
export function combineRetired(current: Snapshot, ours: Snapshot): Snapshot {
  // foldSnapshot adds counters and histograms; `ours` plays the dead process.
  const summed = foldSnapshot(current, ours);
  const folded = [...(ours.folded ?? []), ...(current.folded ?? [])].slice(-MAX_FOLDED_KEYS);
  const ends = [...(ours.ends ?? []), ...(current.ends ?? [])].slice(-MAX_FOLDED_KEYS);
  return { ...summed, folded, ends };
}
