import diagnosticsChannel from 'node:diagnostics_channel';

const RESPONSE_FINISH_CHANNEL = 'http.server.response.finish';

/**
 * Counts the worker's finished responses and says once when `limit` is
 * reached (Gunicorn's max_requests). One increment and a comparison per
 * response, on a diagnostics channel; it unsubscribes as soon as it fired.
 */
export class MaxRequestsCounter {
  private count = 0;
  private subscribed = false;

  constructor(
    private readonly limit: number,
    private readonly onReached: () => void,
  ) {}

  start(): void {
    if (this.limit <= 0 || this.subscribed) return;
    this.subscribed = true;
    diagnosticsChannel.subscribe(RESPONSE_FINISH_CHANNEL, this.onFinish);
  }

  stop(): void {
    if (!this.subscribed) return;
    this.subscribed = false;
    diagnosticsChannel.unsubscribe(RESPONSE_FINISH_CHANNEL, this.onFinish);
  }

  /** Responses counted so far. */
  get served(): number {
    return this.count;
  }

  private readonly onFinish = (): void => {
    if (++this.count < this.limit) return;
    this.stop();
    this.onReached();
  };
}
