/**
 * What the master of `otel-cluster-exporter run` and its workers tell each
 * other. Master → worker: one environment variable at fork, nothing on the
 * IPC channel (an app's own `process.on('message')` would see it). Worker →
 * master: at most one message per worker life, when the worker asks to be
 * replaced; the app's primary is our master, so nobody else reads it.
 */
import type { SupervisorReason } from './restartReasons';

/** The environment variable carrying {@link WorkerSettings} as JSON. */
export const SUPERVISED_ENV = 'OTEL_CLUSTER_EXPORTER_SUPERVISED';

/** What a supervised worker is asked to do, decided by the master per worker. */
export interface WorkerSettings {
  /** File whose mtime the worker refreshes while its event loop runs; absent when the timeout is off. */
  readonly heartbeatFile?: string;
  /** How often to refresh it, ms. */
  readonly heartbeatMs?: number;
  /** Responses after which the worker asks to be replaced (jitter applied); 0 is off. */
  readonly maxRequests: number;
  /** RSS in bytes above which (3 samples in a row) the worker asks to be replaced; 0 is off. */
  readonly maxMemoryBytes: number;
  /** Keep-alive timeout for servers left at Node's default, ms; 0 leaves them alone. */
  readonly keepAliveMs: number;
}

/** The message a worker sends when it asks to be replaced. */
export interface RetireRequest {
  readonly 'otel-cluster-exporter': 'retire';
  readonly reason: Extract<SupervisorReason, 'max_requests' | 'memory'>;
}

/** Whether an IPC message from a worker is a {@link RetireRequest}. */
export function isRetireRequest(message: unknown): message is RetireRequest {
  if (typeof message !== 'object' || message === null) return false;
  const m = message as Record<string, unknown>;
  return m['otel-cluster-exporter'] === 'retire' && (m['reason'] === 'max_requests' || m['reason'] === 'memory');
}

/** Reads the settings of a supervised worker; undefined when not supervised or unreadable. */
export function readWorkerSettings(env: NodeJS.ProcessEnv): WorkerSettings | undefined {
  const raw = env[SUPERVISED_ENV];
  if (raw === undefined || raw === '') return undefined;
  try {
    const parsed = JSON.parse(raw) as Partial<WorkerSettings>;
    const count = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0);
    return {
      ...(typeof parsed.heartbeatFile === 'string' && parsed.heartbeatFile !== '' ? { heartbeatFile: parsed.heartbeatFile, heartbeatMs: count(parsed.heartbeatMs) || 1000 } : {}),
      maxRequests: count(parsed.maxRequests),
      maxMemoryBytes: count(parsed.maxMemoryBytes),
      keepAliveMs: count(parsed.keepAliveMs),
    };
  } catch {
    return undefined;
  }
}
