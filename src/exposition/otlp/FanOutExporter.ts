import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { ExportGuard, ExportOutcome } from './ExportGuard';

/**
 * The one exporter the periodic reader sees: hands each collected batch to
 * every guarded exporter (OTLP, console), so the merged view is collected once
 * per interval however many destinations there are.
 *
 * It always reports success to the reader: each guard has already counted and
 * logged its own failures, and passing them up would only make the SDK log
 * every failed attempt again through its diagnostic logger.
 */
export class FanOutExporter implements PushMetricExporter {
  private readonly guards: readonly ExportGuard[];
  private forcing = false;
  private lastOutcomes: readonly ExportOutcome[] = [];

  constructor(guards: readonly ExportGuard[]) {
    this.guards = guards;
  }

  /** What became of the last batch, one entry per guard (for diagnostics and tests). */
  get outcomes(): readonly ExportOutcome[] {
    return this.lastOutcomes;
  }

  /** Whether at least one destination would attempt a batch offered now. */
  ready(): boolean {
    return this.guards.some((guard) => guard.ready(this.forcing));
  }

  /** Run `step` with backoff ignored, so a flush really tries to deliver. */
  async forcingBackoff(step: () => Promise<void>): Promise<void> {
    this.forcing = true;
    try {
      await step();
    } finally {
      this.forcing = false;
    }
  }

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    const force = this.forcing;
    void Promise.all(this.guards.map((guard) => guard.send(metrics, force))).then((outcomes) => {
      this.lastOutcomes = outcomes;
      resultCallback({ code: ExportResultCode.SUCCESS });
    });
  }

  async forceFlush(): Promise<void> {
    await Promise.all(this.guards.map((guard) => guard.forceFlush()));
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.guards.map((guard) => guard.shutdown()));
  }
}
