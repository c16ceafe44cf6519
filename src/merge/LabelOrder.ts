import type { LabelSet } from './SeriesTable';

/**
 * Puts label sets in canonical key order, remembering the order it last
 * produced. Scrapes merge the same label sets over and over, and sorting
 * thousands of long keys was the largest single cost of a merge: while no new
 * key appears, the remembered ranks give the same order in linear time.
 *
 * Only speed depends on the memory; the order is always the sorted one. One
 * instance per caller (a merged view keeps one across its scrapes), so no two
 * callers share hidden state.
 */
export class LabelOrder {
  private ranks = new Map<string, number>();

  /** `labels` sorted by key in code-unit order (locale independent). */
  order(labels: readonly LabelSet[]): LabelSet[] {
    const ranks = this.ranks;
    if (ranks.size > 0 && labels.every((label) => ranks.has(label.key))) {
      const placed = new Array<LabelSet | undefined>(ranks.size);
      for (const label of labels) placed[ranks.get(label.key) as number] = label;
      return placed.filter((label): label is LabelSet => label !== undefined);
    }
    const sorted = [...labels].sort((a, b) => compareKeys(a.key, b.key));
    this.ranks = new Map(sorted.map((label, index) => [label.key, index]));
    return sorted;
  }
}

/** Code-unit order, independent of locale, so output is identical on every host. */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
