import type { SeriesAttributes } from '../snapshot/Snapshot';
import { canonicalAttributes, seriesKey } from './seriesKey';

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
  /**
   * The key of each snapshot label-set object seen, with the extra labels it
   * was keyed with: a reader hands the same objects out from one decode of a
   * worker's snapshot to the next (see decodeSnapshot), and building the keys
   * of thousands of label sets was a good part of a merge. Weak: a label set
   * no snapshot holds any more is forgotten with it.
   */
  private readonly keys = new WeakMap<SeriesAttributes, { readonly extra: string; readonly key: string }>();
  /** The key of each extra-labels object of the current merge (a few: one per snapshot). */
  private extraKeys = new Map<SeriesAttributes, string>();

  /** A new merge starts: what the merge before the last one used, and the last did not, is dropped. */
  startMerge(): void {
    this.extraKeys = new Map();
    if (this.current.size === 0 && this.previous.size === 0) return;
    this.previous = this.current;
    this.current = new Map();
  }

  /**
   * {@link seriesKey}`(own, extra)`, remembered per `own` object. Label sets
   * are never modified (they are read-only data), so the same object with
   * extra labels of the same content has the same key.
   */
  key(own: SeriesAttributes, extra: SeriesAttributes | undefined): string {
    let extraKey = '';
    if (extra !== undefined) {
      const known = this.extraKeys.get(extra);
      if (known === undefined) {
        extraKey = seriesKey(extra, undefined);
        this.extraKeys.set(extra, extraKey);
      } else {
        extraKey = known;
      }
    }
    const known = this.keys.get(own);
    if (known !== undefined && known.extra === extraKey) return known.key;
    const key = seriesKey(own, extra);
    this.keys.set(own, { extra: extraKey, key });
    return key;
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
