import { randomInt } from 'node:crypto';
import type { ExporterConfig } from '../config/Config';

/** Everything the master of `otel-cluster-exporter run` needs, resolved from the configuration and the command line. */
export interface SupervisorSettings {
  /** The app's entry file, absolute. */
  readonly app: string;
  /** Arguments passed to the app. */
  readonly appArgs: readonly string[];
  /** Workers to start. */
  readonly workers: number;
  /** Heartbeat timeout, seconds; 0 is off. */
  readonly timeoutS: number;
  /** Seconds a retiring worker gets before SIGKILL. */
  readonly gracefulTimeoutS: number;
  /** Responses after which a worker is replaced; 0 is off. */
  readonly maxRequests: number;
  /** Upper bound of the random amount added to maxRequests per worker. */
  readonly maxRequestsJitter: number;
  /** RSS limit, MiB; 0 is off. */
  readonly maxMemoryMb: number;
  /** Keep-alive timeout for worker servers at Node's default, seconds; 0 leaves them alone. */
  readonly keepaliveS: number;
  /** Extra Node options for workers. */
  readonly nodeArgs: readonly string[];
}

/** The supervisor settings of a configuration (its `gunicorn` section, already overridden by the command line). */
export function supervisorSettings(config: ExporterConfig, app: string, appArgs: readonly string[]): SupervisorSettings {
  const g = config.gunicorn;
  return {
    app,
    appArgs,
    workers: g.workers,
    timeoutS: g.timeout,
    gracefulTimeoutS: g.gracefulTimeout,
    maxRequests: g.maxRequests,
    maxRequestsJitter: g.maxRequestsJitter,
    maxMemoryMb: g.maxMemoryMb,
    keepaliveS: g.keepalive,
    nodeArgs: g.nodeArgs,
  };
}

/**
 * One worker's request limit: Gunicorn's max_requests plus a random 0..jitter
 * (both ends included), so workers started together do not all recycle
 * together. 0 stays 0 (off).
 */
export function maxRequestsFor(maxRequests: number, jitter: number, random: (maxExclusive: number) => number = (n) => randomInt(0, n)): number {
  return maxRequests > 0 ? maxRequests + random(jitter + 1) : 0;
}
