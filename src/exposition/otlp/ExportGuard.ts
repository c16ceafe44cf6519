import { ExportResultCode } from '@opentelemetry/core';
import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { CATALOGUE, prometheusName } from '../../catalogue/MetricCatalogue';
import { errorMessage } from '../../self/errorMessage';
import { recovered, warnOnce } from '../../self/Logger';
import type { SelfMetrics } from '../../self/SelfMetrics';
import { withTimeout } from '../../self/withTimeout';
import { CumulativeToDelta } from './CumulativeToDelta';

/** What became of one offered batch. */
export type ExportOutcome =
  /** Delivered. */
  | 'sent'
  /** Tried and failed (error, refusal or timeout); counted and backed off. */
  | 'failed'
  /** Dropped: the previous export is still running. */
  | 'busy'
  /** Dropped: still waiting out the backoff after failures. */
  | 'backoff';

/** How an {@link ExportGuard} shields the application from one exporter. */
export interface ExportGuardOptions {
  /** Exporter label for the self-metric and the log (`otlp`, `console`). */
  readonly name: string;
  /** Where it sends, for the log line (an endpoint URL). */
  readonly target: string;
  /** The exporter shielded; it sees at most one export at a time. */
  readonly exporter: PushMetricExporter;
  /** An export not finished after this long counts as failed and frees the slot. */
  readonly deadlineMs: number;
  /** The push interval; backoff is counted in intervals. */
  readonly intervalMs: number;
  /** Longest wait between attempts while failures go on. */
  readonly maxBackoffMs: number;
  /** Convert cumulative data to delta before sending. */
  readonly delta: boolean;
  /** Where each failed export is counted. */
  readonly selfMetrics: SelfMetrics;
  /** Clock, in ms; injectable so tests need not wait for real backoff. */
  readonly now?: () => number;
}

/**
 * Wraps one exporter so that a collector that is down, slow or refusing cannot
 * affect the application:
 * - one export in flight: a batch offered while the previous one still runs is
 *   dropped, never queued, so memory stays bounded whatever the collector does;
 * - every export ends by `deadlineMs`, whether or not the exporter calls back;
 * - each failure is counted in the export-errors self-metric, the first of an
 *   outage is logged once and the recovery is logged once;
 * - after consecutive failures, attempts are spaced out exponentially
 *   (1, 2, 4, ... intervals, capped at `maxBackoffMs`).
 * It never throws and never rejects.
 */
export class ExportGuard {
  private readonly options: ExportGuardOptions;
  private readonly converter: CumulativeToDelta | undefined;
  private readonly now: () => number;
  private readonly outageKey: string;
  private inFlight = false;
  private consecutiveFailures = 0;
  private nextAttemptAt = 0;

  constructor(options: ExportGuardOptions) {
    this.options = options;
    this.converter = options.delta ? new CumulativeToDelta() : undefined;
    this.now = options.now ?? Date.now;
    // Keyed by target too: two pushes to two endpoints have separate outages.
    this.outageKey = `export:${options.name}:${options.target}`;
  }

  /** Failures since the last success. */
  get failures(): number {
    return this.consecutiveFailures;
  }

  /** Whether a batch offered now would be attempted (`force` ignores backoff). */
  ready(force = false): boolean {
    return !this.inFlight && (force || this.now() >= this.nextAttemptAt);
  }

  /** Offer one cumulative batch; resolves with what became of it. */
  async send(batch: ResourceMetrics, force = false): Promise<ExportOutcome> {
    if (this.inFlight) return 'busy';
    if (!force && this.now() < this.nextAttemptAt) return 'backoff';
    const startedAt = this.now();
    const converted = this.converter?.convert(batch);
    this.inFlight = true;
    const error = await this.exportWithDeadline(converted?.resourceMetrics ?? batch);
    this.inFlight = false;
    if (error === undefined) {
      converted?.commit();
      this.onSuccess();
      return 'sent';
    }
    this.onFailure(startedAt, error);
    return 'failed';
  }

  /** Flush the exporter, bounded by the deadline. */
  async forceFlush(): Promise<void> {
    await this.bounded(() => this.options.exporter.forceFlush());
  }

  /** Shut the exporter down, bounded by the deadline. */
  async shutdown(): Promise<void> {
    await this.bounded(() => this.options.exporter.shutdown());
  }

  /** Resolves with the failure, or undefined on success; never rejects. */
  private exportWithDeadline(payload: ResourceMetrics): Promise<unknown> {
    const { deadlineMs, exporter } = this.options;
    const exported = new Promise<unknown>((resolve) => {
      try {
        exporter.export(payload, (result) => {
          resolve(result.code === ExportResultCode.SUCCESS ? undefined : (result.error ?? new Error('export failed')));
        });
      } catch (error) {
        resolve(error ?? new Error('export threw'));
      }
    });
    // The exporter may never call back (a collector that accepts and never
    // answers): the deadline frees the slot regardless. A late callback is
    // ignored because a promise settles once.
    return withTimeout(exported, deadlineMs, 'export').catch((timeout: unknown) => timeout);
  }

  private onSuccess(): void {
    if (this.consecutiveFailures > 0) {
      const { name, target } = this.options;
      recovered(this.outageKey, `${name} export to ${target} recovered after ${this.consecutiveFailures} failed attempt(s)`);
    }
    this.consecutiveFailures = 0;
    this.nextAttemptAt = 0;
  }

  private onFailure(startedAt: number, error: unknown): void {
    const { name, target, intervalMs, maxBackoffMs, selfMetrics } = this.options;
    this.consecutiveFailures += 1;
    selfMetrics.recordExportError(name);
    const backoff = Math.min(intervalMs * 2 ** Math.min(this.consecutiveFailures - 1, 30), Math.max(maxBackoffMs, intervalMs));
    // Half an interval of slack: ticks land near multiples of the interval
    // from the attempt's start, and must not miss the slot by a millisecond.
    this.nextAttemptAt = startedAt + backoff - intervalMs / 2;
    warnOnce(
      this.outageKey,
      `${name} export to ${target} failed (${summarise(error)}); retrying with backoff, ` +
        `failures are counted in ${prometheusName(CATALOGUE.exportErrors)} and not logged again until it recovers`,
    );
  }

  /** Run a flush or shutdown step for at most the deadline, swallowing its failure. */
  private async bounded(step: () => Promise<void>): Promise<void> {
    try {
      await withTimeout(step(), this.options.deadlineMs, `${this.options.name} exporter`);
    } catch {
      // Failed, timed out or threw synchronously: nothing more to flush or close.
    }
  }
}

/** A short, single-line description of an export failure, with its error code when the message lacks it. */
function summarise(error: unknown): string {
  const text = errorMessage(error) || (error instanceof Error ? error.name : '');
  const raw = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  const code = typeof raw === 'string' || typeof raw === 'number' ? String(raw) : undefined;
  const withCode = code !== undefined && !text.includes(code) ? `${text} [${code}]` : text;
  const line = withCode.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 200)}...` : line;
}
