import type { MergeOptions } from '../merge/SnapshotMerger';
import { SnapshotMerger } from '../merge/SnapshotMerger';
import { processKey, slotKey } from '../snapshot/Snapshot';
import type { StoredSnapshot } from '../snapshot/Snapshot';
import { ByteWriter } from './ByteWriter';
import { FamilySamples } from './FamilySamples';
import { NO_REGISTERED_METRICS, PrometheusTextSerializer } from './PrometheusTextSerializer';
import type { OpenMetricsSerializer } from './OpenMetricsSerializer';
import type { RenderedView } from './RenderedView';
import { DataPointType } from '@opentelemetry/sdk-metrics';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';

/** Where the renderer gets its input: a {@link MergedView}'s read and merge options. */
export interface RenderSource {
  read(nowMs: number): Promise<StoredSnapshot[]>;
  mergeOptions(nowMs: number): MergeOptions;
}

/** One part of the view rendered: a worker slot (all its lives), or everything else. */
interface RenderedGroup {
  /** Which snapshots, in which versions, it was rendered from. */
  readonly fingerprint: string;
  readonly merger: SnapshotMerger;
  readonly families: ReadonlyMap<string, { readonly header: string; readonly samples: FamilySamples }>;
  /** A family name was dropped for a type conflict inside the group. */
  readonly dropped: boolean;
  /** Histogram boundaries by metric: two groups that disagree cannot share a family. */
  readonly boundaries: ReadonlyMap<string, string>;
}

/** Group key of snapshots that are not a worker slot's (the primary's, the staleness gauge). */
const REST_GROUP = '';

/** Header buffers kept at most; metric families are few, this only bounds a pathological app. */
const MAX_CACHED_HEADERS = 4096;

/**
 * Renders a merged view as Prometheus text in parts, re-rendering only what
 * changed since the last scrape.
 *
 * Series of different worker slots never add up (each carries its own
 * `worker_id`), so each slot — its retired totals and its lives — is merged
 * and rendered on its own and kept with the versions (process key, write
 * time, liveness) of the snapshots it came from; a slot whose snapshots did
 * not change is not merged or rendered again, and its buffers are the same
 * objects as before, so the endpoint's gzip of them is reused too. Within a
 * slot that changed, only the series whose values changed are rendered
 * again (see {@link FamilySamples}); a family of it in which no series
 * changed keeps its buffer too. The answer is, per family, one header and
 * then each part's samples, sent as a list of buffers without joining them.
 *
 * Where the parts do not fit together as one family each — the same metric
 * declared with another type, unit, help or histogram boundaries by two
 * slots (the whole-view merge re-buckets those into the newest life's), or a
 * family present in the primary's part and in a slot's — the whole view is
 * merged and rendered at once instead, so the output is always what the
 * whole-view merge gives, up to the order of series within a family.
 */
export class ExpositionRenderer {
  private readonly serializer = new PrometheusTextSerializer();
  private groups = new Map<string, RenderedGroup>();
  private readonly headers = new Map<string, Buffer>();
  private readonly wholeViewMerger = new SnapshotMerger();
  /** Scratch space of one render, let go of after it. */
  private readonly writer = new ByteWriter();

  constructor(private readonly source: RenderSource) {}

  /** The exposition now, as buffers to send in order. */
  async render(): Promise<Buffer[]> {
    const nowMs = Date.now();
    return this.renderClassic(await this.source.read(nowMs), this.source.mergeOptions(nowMs));
  }

  /**
   * The exposition now, servable in every format from one read of the view:
   * classic text in parts as {@link render} gives it, OpenMetrics (which
   * carries exemplars) merged and serialized whole, only when a scraper asks.
   */
  async renderView(openMetrics: OpenMetricsSerializer): Promise<RenderedView> {
    const nowMs = Date.now();
    const stored = await this.source.read(nowMs);
    const options = this.source.mergeOptions(nowMs);
    const classic = this.renderClassic(stored, options);
    let openMetricsText: string | undefined;
    return {
      text: (format) => (format === 'prometheus' ? classic : (openMetricsText ??= openMetrics.serialize(this.wholeViewMerger.merge(stored, options)))),
    };
  }

  private renderClassic(stored: readonly StoredSnapshot[], options: MergeOptions): Buffer[] {
    const groups = new Map<string, RenderedGroup>();
    try {
      for (const [key, entries] of groupBySlot(stored)) groups.set(key, this.renderGroup(key, entries, options));
    } finally {
      this.writer.release();
    }
    this.groups = groups; // slots that are gone are forgotten with their buffers
    const ordered = [...groups.entries()].sort(byGroupKey).map(([, group]) => group);
    return this.assemble(ordered, groups.get(REST_GROUP)) ?? this.renderWholeView(stored, options);
  }

  private renderGroup(key: string, entries: readonly StoredSnapshot[], options: MergeOptions): RenderedGroup {
    const fingerprint = fingerprintOf(entries);
    const known = this.groups.get(key);
    if (known !== undefined && known.fingerprint === fingerprint) return known;
    const merger = known?.merger ?? new SnapshotMerger();
    const merged = merger.merge(entries, options);
    const { families, dropped } = this.serializer.familyParts(merged);
    const byName = new Map<string, { header: string; samples: FamilySamples }>();
    for (const family of families) {
      const samples = FamilySamples.render(this.serializer, family.name, family.metrics, known?.families.get(family.name)?.samples, this.writer);
      byName.set(family.name, { header: family.header, samples });
    }
    return { fingerprint, merger, families: byName, dropped, boundaries: histogramBoundaries(merged) };
  }

  /** One header and the samples of every group per family; undefined when the groups do not fit together. */
  private assemble(groups: readonly RenderedGroup[], rest: RenderedGroup | undefined): Buffer[] | undefined {
    const families = new Map<string, { header: string; samples: Buffer[] }>();
    const boundaries = new Map<string, string>();
    for (const group of groups) {
      if (group.dropped) return undefined;
      for (const [metric, bounds] of group.boundaries) {
        const known = boundaries.get(metric);
        if (known !== undefined && known !== bounds) return undefined;
        boundaries.set(metric, bounds);
      }
      for (const [name, family] of group.families) {
        const known = families.get(name);
        if (known === undefined) {
          families.set(name, { header: family.header, samples: [family.samples.bytes] });
          continue;
        }
        if (known.header !== family.header || (rest !== undefined && (group === rest || rest.families.has(name)))) return undefined;
        known.samples.push(family.samples.bytes);
      }
    }
    if (families.size === 0) return [Buffer.from(NO_REGISTERED_METRICS, 'utf8')];
    const parts: Buffer[] = [];
    for (const name of [...families.keys()].sort()) {
      const family = families.get(name) as { header: string; samples: Buffer[] };
      parts.push(this.headerBuffer(family.header), ...family.samples.filter((samples) => samples.length > 0));
    }
    return parts;
  }

  private renderWholeView(stored: readonly StoredSnapshot[], options: MergeOptions): Buffer[] {
    return [Buffer.from(this.serializer.serialize(this.wholeViewMerger.merge(stored, options)), 'utf8')];
  }

  private headerBuffer(header: string): Buffer {
    let buffer = this.headers.get(header);
    if (buffer === undefined) {
      if (this.headers.size >= MAX_CACHED_HEADERS) this.headers.clear();
      buffer = Buffer.from(header, 'utf8');
      this.headers.set(header, buffer);
    }
    return buffer;
  }
}

function histogramBoundaries(merged: ResourceMetrics): Map<string, string> {
  const result = new Map<string, string>();
  for (const scope of merged.scopeMetrics) {
    for (const metric of scope.metrics) {
      if (metric.dataPointType !== DataPointType.HISTOGRAM) continue;
      result.set(metric.descriptor.name, metric.dataPoints[0]?.value.buckets.boundaries.join(',') ?? '');
    }
  }
  return result;
}

/** Worker slots (workers and retired totals) by slot; everything else in {@link REST_GROUP}. */
function groupBySlot(stored: readonly StoredSnapshot[]): Map<string, StoredSnapshot[]> {
  const groups = new Map<string, StoredSnapshot[]>();
  for (const entry of stored) {
    const { role, slot } = entry.snapshot.identity;
    const key = role === 'primary' || slot < 0 ? REST_GROUP : `s${slotKey(entry.snapshot.identity)}`;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [entry]);
    else group.push(entry);
  }
  return groups;
}

/** Which snapshot versions a group holds: a new write, a death or a fold changes it. */
function fingerprintOf(entries: readonly StoredSnapshot[]): string {
  return entries
    .map(({ snapshot, live }) => `${processKey(snapshot.identity)}@${snapshot.writtenAtMs}${live ? '+' : '-'}${snapshot.folded?.length ?? 0}`)
    .sort()
    .join(' ');
}

/** Slots in slot order (then service and instance), the rest last. */
function byGroupKey([a]: [string, RenderedGroup], [b]: [string, RenderedGroup]): number {
  if (a === REST_GROUP || b === REST_GROUP) return a === b ? 0 : a === REST_GROUP ? 1 : -1;
  const slotA = Number(a.slice(a.lastIndexOf('|') + 1));
  const slotB = Number(b.slice(b.lastIndexOf('|') + 1));
  return slotA - slotB || (a < b ? -1 : a > b ? 1 : 0);
}
