import type { SeriesAttributes } from '../snapshot/Snapshot';
import { canonicalAttributes } from './seriesKey';

/**
 * The canonical attributes object of each label set a merger used in its
 * last merge, handed out again for the same key in the next one.
 *
 * A series then keeps the same attributes object from one merge to the
 * next, which a renderer uses as a cheap, exact identity: ExpositionRenderer
 * re-renders only the series whose values changed and finds the others
 * again by that object (see FamilySamples). It also saves building the
 * object per label set per merge. Label sets the last merge did not use are
 * forgotten, so memory follows the view, not its history.
 *
 * The objects are shared by every merge output of one merger: nobody may
 * modify them (no exporter does; they only read attributes).
 */
export class KnownAttributes {
  private previous = new Map<string, SeriesAttributes>();
  private current = new Map<string, SeriesAttributes>();

  /** A new merge starts: what the merge before the last one used, and the last did not, is dropped. */
  startMerge(): void {
    if (this.current.size === 0 && this.previous.size === 0) return;
    this.previous = this.current;
    this.current = new Map();
  }

  /** The attributes of label set `key` (see {@link seriesKey}): the known object, else built from `own` and `extra`. */
  attributes(key: string, own: SeriesAttributes, extra: SeriesAttributes | undefined): SeriesAttributes {
    let attributes = this.current.get(key);
    if (attributes === undefined) {
      attributes = this.previous.get(key) ?? canonicalAttributes(own, extra);
      this.current.set(key, attributes);
    }
    return attributes;
  }
}
