import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { OtlpConfig } from '../../../src/config/Config';
import { CATALOGUE } from '../../../src/catalogue/MetricCatalogue';
import type { TestContext } from 'node:test';
import { SelfMetrics } from '../../../src/self/SelfMetrics';
import { startOtlpPush } from '../../../src/exposition/OtlpPush';
import type { OtlpPush } from '../../../src/exposition/OtlpPush';
import { CatalogueProducer } from './CatalogueProducer';
import { OtlpHttpReceiver } from './OtlpHttpReceiver';

/** The package's log prefix (src/self/Logger.ts). */
const LOG_PREFIX = '[otel-cluster-exporter]';

/** An OtlpConfig with test defaults. */
export function otlpConfig(overrides: Partial<OtlpConfig> & Pick<OtlpConfig, 'endpoint'>): OtlpConfig {
  return { protocol: 'http/protobuf', headers: {}, timeoutMs: 2000, compression: 'none', temporality: 'cumulative', ...overrides };
}

/** The resource a service would push under. */
export function testResource(instance = 'host-a'): Resource {
  return resourceFromAttributes({ 'service.name': 'checkout', 'service.instance.id': instance });
}

/** A loopback port nobody listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Poll until `check` holds, or fail naming `what`. */
export async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Failed exports the self-metrics counted for `exporter`. */
export function exportErrors(selfMetrics: SelfMetrics, exporter = 'otlp'): number {
  const point = selfMetrics.toPoints().find((p) => p.name === CATALOGUE.exportErrors.name && p.attributes.exporter === exporter);
  return point?.value ?? 0;
}

/**
 * Collects the package's log lines written to stderr while active (other
 * output passes through untouched). Observes the real Logger's output; call
 * `stop()` in a finally/after hook.
 */
export class LogCapture {
  readonly lines: string[] = [];
  private readonly original = process.stderr.write;

  constructor() {
    const original = this.original;
    const lines = this.lines;
    process.stderr.write = function capture(this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
      const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk);
      if (text.startsWith(LOG_PREFIX)) {
        lines.push(...text.split('\n').filter((line) => line !== ''));
        return true;
      }
      return (original as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    };
  }

  /** Lines mentioning `text`. */
  matching(text: string): string[] {
    return this.lines.filter((line) => line.includes(text));
  }

  stop(): void {
    process.stderr.write = this.original;
  }
}

/** A push that only exports when the test calls forceFlush, into a fresh loopback HTTP receiver. */
export interface ManualPush {
  readonly receiver: OtlpHttpReceiver;
  readonly producer: CatalogueProducer;
  readonly selfMetrics: SelfMetrics;
  readonly push: OtlpPush;
}

/**
 * Start a receiver, a producer and a push whose interval never fires during a
 * test; everything is closed when the test ends.
 */
export async function startManualPush(t: TestContext, otlp: (endpoint: string) => OtlpConfig): Promise<ManualPush> {
  const receiver = await OtlpHttpReceiver.start();
  const producer = new CatalogueProducer();
  const selfMetrics = new SelfMetrics();
  const push = startOtlpPush({ otlp: otlp(receiver.endpoint), intervalMs: 60_000, timeoutMs: 5_000, resource: testResource(), producer, selfMetrics });
  t.after(async () => {
    await push.shutdown();
    await producer.shutdown();
    await receiver.close();
  });
  return { receiver, producer, selfMetrics, push };
}
