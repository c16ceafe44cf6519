import { semanticConventionNames } from '../exposition/otlp/SemanticConventionNames';
import type { Server } from 'node:http';
import { Server as HttpsServer } from 'node:https';
import type { Resource } from '@opentelemetry/resources';
import type { ExporterConfig } from '../config/Config';
import { MergedView } from '../exposition/MergedView';
import { MetricsEndpoint } from '../exposition/MetricsEndpoint';
import { ExpositionRenderer } from '../exposition/ExpositionRenderer';
import { OpenMetricsSerializer } from '../exposition/OpenMetricsSerializer';
import { negotiateFormat } from '../exposition/negotiateFormat';
import { EndpointAccess } from '../exposition/access/EndpointAccess';
import { startOtlpPush } from '../exposition/OtlpPush';
import type { OtlpPush } from '../exposition/OtlpPush';
import type { Snapshot } from '../snapshot/Snapshot';
import type { SnapshotStore } from '../store/SnapshotStore';
import type { SelfMetrics } from '../self/SelfMetrics';
import { info, recovered, warnOnce } from '../self/Logger';
import { errorMessage } from '../self/errorMessage';

/** Options of {@link Exposition.start}. */
export interface ExpositionOptions {
  readonly config: ExporterConfig;
  readonly store: SnapshotStore;
  readonly resource: Resource;
  readonly selfMetrics: SelfMetrics;
  /** Several instances may share the store: label series with their instance. */
  readonly labelInstance: boolean;
  readonly localSnapshot?: () => Promise<Snapshot | undefined>;
  /**
   * False in an app's process: the endpoint must not keep the process alive
   * (a script must still end, a graceful shutdown must still drain). True for `serve`.
   */
  readonly keepProcessAlive: boolean;
  /** Told about the endpoint's server so the HTTP instrumentation can ignore it. */
  readonly onServer?: (server: Server) => void;
  /** Derive restarts, workers and states from the store where no primary records them (`serve`). */
  readonly deriveRestarts?: boolean;
}

/** How long a scrape may wait on the store before the last good view is served. */
const STORE_READ_TIMEOUT_MS = 2000;
/** How often a port that was busy is tried again. */
const LISTEN_RETRY_MS = 5000;
/** How often workers whose lease ran out are folded into their slots. */
const REAP_INTERVAL_MS = 5000;

/**
 * The merged view leaving the process: the Prometheus endpoint and the OTLP
 * push, both fed by one {@link MergedView}. Used by the cluster primary, the
 * single process and `serve`.
 */
export class Exposition {
  private endpoint: MetricsEndpoint | undefined;
  private otlp: OtlpPush | undefined;
  private listenRetry: NodeJS.Timeout | undefined;
  private reaper: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    private readonly options: ExpositionOptions,
    readonly view: MergedView,
  ) {}

  /** Start what the configuration's `exporters` list asks for. */
  static start(options: ExpositionOptions): Exposition {
    const view = new MergedView({
      store: options.store,
      resource: options.resource,
      labelInstance: options.labelInstance,
      selfMetrics: options.selfMetrics,
      readTimeoutMs: STORE_READ_TIMEOUT_MS,
      localSnapshot: options.localSnapshot,
      maxEndpoints: options.config.metrics.maxEndpoints,
      maxRequestSeries: options.config.metrics.maxRequestSeries,
      deriveRestarts: options.deriveRestarts,
    });
    const exposition = new Exposition(options, view);
    const exporters = options.config.otel.exporters;
    if (exporters.includes('prometheus')) exposition.startEndpoint();
    if (exporters.includes('otlp') || exporters.includes('console')) exposition.startPush();
    exposition.startReaper();
    return exposition;
  }

  /** The port the endpoint listens on, once it does. */
  get port(): number | undefined {
    return this.endpoint?.port;
  }

  /**
   * Fold the workers whose lease ran out into their slots now (writers no
   * primary watches: PM2, sidecars, other hosts; a primary folds its own
   * workers at their exit). Each worker is folded on its own: one that fails
   * is counted, logged once and retried at the next reap.
   */
  async reap(): Promise<void> {
    try {
      await this.options.store.reap();
    } catch (error) {
      this.retireFailed(error);
    }
  }

  /** Count and log (once per outage) a failed read or fold of the reaper. */
  private retireFailed(error: unknown): void {
    const { store, selfMetrics } = this.options;
    selfMetrics.recordStoreError(store.kind, 'retire');
    warnOnce(`store-retire-${store.kind}`, `folding dead workers failed (will retry): ${errorMessage(error)}`);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.listenRetry) clearTimeout(this.listenRetry);
    if (this.reaper) clearInterval(this.reaper);
    await Promise.allSettled([this.endpoint?.close(), this.otlp?.shutdown()]);
  }

  private startEndpoint(): void {
    const { config, selfMetrics } = this.options;
    const renderer = new ExpositionRenderer(this.view);
    const openMetrics = new OpenMetricsSerializer();
    const access = EndpointAccess.fromConfig(config);
    const endpoint = new MetricsEndpoint({
      port: config.prometheus.metricsPort,
      host: config.prometheus.bindAddress,
      metricsPath: config.prometheus.metricsPath,
      ...(access.tls !== undefined ? { tls: access.tls } : {}),
      guard: access,
      negotiate: negotiateFormat,
      render: () => renderer.renderView(openMetrics),
      onScrapeDuration: (seconds) => selfMetrics.setScrapeDuration(seconds),
    });
    this.endpoint = endpoint;
    this.options.onServer?.(endpoint.server);
    if (!this.options.keepProcessAlive) {
      // A scraper's keep-alive connection must not hold the app open either.
      endpoint.server.on('connection', (socket) => socket.unref());
    }
    this.listen(endpoint);
  }

  /**
   * A busy port must not take the app down: log once, keep trying, and serve
   * as soon as the port is free.
   */
  private listen(endpoint: MetricsEndpoint): void {
    endpoint.start().then(
      ({ port }) => {
        if (!this.options.keepProcessAlive) endpoint.server.unref();
        recovered('endpoint-listen', `metrics endpoint now listening on port ${port}`);
        if (!this.options.config.logging.quiet) {
          const { bindAddress, metricsPath } = this.options.config.prometheus;
          const scheme = endpoint.server instanceof HttpsServer ? 'https' : 'http';
          info(`serving merged metrics on ${scheme}://${displayHost(bindAddress)}:${port}${metricsPath}`);
        }
      },
      (error: unknown) => {
        warnOnce('endpoint-listen', `${errorMessage(error)}; retrying every ${LISTEN_RETRY_MS / 1000} s`);
        if (this.closed) return;
        this.listenRetry = setTimeout(() => this.listen(endpoint), LISTEN_RETRY_MS);
        this.listenRetry.unref();
      },
    );
  }

  private startPush(): void {
    const { config, resource, selfMetrics } = this.options;
    this.otlp = startOtlpPush({
      otlp: config.otel.otlp,
      exporters: config.otel.exporters,
      intervalMs: config.otel.exportIntervalMs,
      timeoutMs: config.otel.exportTimeoutMs,
      resource,
      // Runtime metrics travel under OpenTelemetry's runtime names on OTLP.
      producer: semanticConventionNames(this.view),
      selfMetrics,
    });
  }

  private startReaper(): void {
    this.reaper = setInterval(() => void this.reap(), REAP_INTERVAL_MS);
    this.reaper.unref();
  }
}

function displayHost(bindAddress: string): string {
  return bindAddress === '0.0.0.0' || bindAddress === '::' ? 'localhost' : bindAddress;
}
