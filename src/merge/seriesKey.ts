import type { SeriesAttributes } from '../snapshot/Snapshot';

/** A series' attributes in canonical (sorted) order with the key that identifies them. */
export interface KeyedAttributes {
  readonly attributes: SeriesAttributes;
  readonly key: string;
}

// Separators that cannot occur in sane label names and are unlikely in values;
// a collision would need both, inside one metric.
const PAIR = '\u0001';
const ENTRY = '\u0002';

/**
 * The canonical key of `own` overlaid by `extra` (the merge's `worker_id` and
 * `instance` win over anything a process recorded itself): label names sorted,
 * so the same label set always yields the same key whatever order it was
 * recorded in. Building the attributes object is left to
 * {@link canonicalAttributes}, which only runs for label sets not seen yet.
 */
export function seriesKey(own: SeriesAttributes, extra: SeriesAttributes | undefined): string {
  let key = '';
  for (const name of labelNames(own, extra)) {
    const value = valueOf(own, extra, name);
    if (value !== undefined) key += name + PAIR + value + ENTRY;
  }
  return key;
}

/** The attributes {@link seriesKey} describes, with keys in sorted order (the label order on the wire). */
export function canonicalAttributes(own: SeriesAttributes, extra: SeriesAttributes | undefined): SeriesAttributes {
  const combined: Record<string, string> = {};
  for (const name of labelNames(own, extra)) {
    const value = valueOf(own, extra, name);
    if (value !== undefined) combined[name] = value;
  }
  return combined;
}

/** Both in one call, for callers without a cache of seen keys. */
export function keyAttributes(own: SeriesAttributes, extra: SeriesAttributes | undefined): KeyedAttributes {
  return { attributes: canonicalAttributes(own, extra), key: seriesKey(own, extra) };
}

function labelNames(own: SeriesAttributes, extra: SeriesAttributes | undefined): string[] {
  const names = Object.keys(own);
  if (extra !== undefined) {
    for (const name of Object.keys(extra)) if (!hasOwn(own, name)) names.push(name);
  }
  return sortSmall(names);
}

/**
 * Insertion sort in code-unit order: label sets have a handful of names, often
 * already in order, and this runs once per label set per snapshot per scrape.
 */
function sortSmall(names: string[]): string[] {
  for (let i = 1; i < names.length; i++) {
    const name = names[i] as string;
    let j = i - 1;
    while (j >= 0 && (names[j] as string) > name) {
      names[j + 1] = names[j] as string;
      j--;
    }
    names[j + 1] = name;
  }
  return names;
}

function valueOf(own: SeriesAttributes, extra: SeriesAttributes | undefined, name: string): string | undefined {
  return extra !== undefined && hasOwn(extra, name) ? extra[name] : own[name];
}

function hasOwn(object: SeriesAttributes, name: string): boolean {
  return Object.prototype.hasOwnProperty.call(object, name);
}
