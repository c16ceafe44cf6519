import { warnOnce } from '../self/Logger';
import { errorMessage } from '../self/errorMessage';
import { GracefulServers } from './GracefulServers';
import { Heartbeat } from './Heartbeat';
import { MaxRequestsCounter } from './MaxRequestsCounter';
import { MemoryLimit } from './MemoryLimit';
import { readWorkerSettings } from './protocol';
import type { RetireRequest, WorkerSettings } from './protocol';

/**
 * Everything a worker of `otel-cluster-exporter run` does for its master:
 * the heartbeat of the hung-worker check, the max-requests and memory
 * limits (which ask the master to replace the worker), and the graceful
 * drain when the master retires it. Started by the preload in cluster
 * workers whose fork carried {@link SUPERVISED_ENV}; does nothing elsewhere.
 */
export class WorkerAgent {
  private readonly heartbeat: Heartbeat | undefined;
  private readonly maxRequests: MaxRequestsCounter;
  private readonly memory: MemoryLimit;
  private readonly servers: GracefulServers;
  private asked = false;

  private constructor(settings: WorkerSettings) {
    this.heartbeat = settings.heartbeatFile ? new Heartbeat(settings.heartbeatFile, settings.heartbeatMs ?? 1000) : undefined;
    this.maxRequests = new MaxRequestsCounter(settings.maxRequests, () => this.askToRetire('max_requests'));
    this.memory = new MemoryLimit(settings.maxMemoryBytes, () => this.askToRetire('memory'));
    this.servers = new GracefulServers(settings.keepAliveMs);
  }

  /** Start the agent if this worker is supervised; never throws into the app. */
  static startFromEnv(env: NodeJS.ProcessEnv): WorkerAgent | undefined {
    const settings = readWorkerSettings(env);
    if (!settings) return undefined;
    try {
      const agent = new WorkerAgent(settings);
      agent.heartbeat?.start();
      agent.maxRequests.start();
      agent.memory.start();
      agent.servers.start();
      return agent;
    } catch (error) {
      warnOnce('worker-agent', `supervisor agent not started: ${errorMessage(error)}`);
      return undefined;
    }
  }

  stop(): void {
    this.heartbeat?.stop();
    this.maxRequests.stop();
    this.memory.stop();
    this.servers.stop();
  }

  /** Ask the master, once per life, for a successor; the worker serves on until it is retired. */
  private askToRetire(reason: RetireRequest['reason']): void {
    if (this.asked || typeof process.send !== 'function' || !process.connected) return;
    this.asked = true;
    const request: RetireRequest = { 'otel-cluster-exporter': 'retire', reason };
    try {
      process.send(request);
    } catch (error) {
      warnOnce('worker-agent-send', `could not ask the master to replace this worker: ${errorMessage(error)}`);
    }
  }
}
