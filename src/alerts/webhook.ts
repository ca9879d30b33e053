// POSTs each alert digest as JSON to --alert-webhook (ntfy, chat hooks, home automation) with the
// global fetch. Fire and forget for the caller: digests wait in a small queue and are sent one
// after another, each retried with backoff, so a slow or dead endpoint never holds up ingestion or
// the mail. Failures are logged once per digest; the URL is logged by its origin only (chat hooks
// carry their secret in the path).
import type { Logger } from '../logging/types.js';
import { realTimers, type Timers } from '../timers.js';
import { webhookForLog } from './sensor-alert-options.js';

export interface WebhookOptions {
  url: string;
  log: Logger;
  timers?: Timers;
  /** Tries per digest (default 6: about 5 min of retrying with the default delays). */
  tries?: number;
  /** Wait before the 2nd try, doubled before each further one (default 10 s). */
  firstDelayMs?: number;
  /** Per request (default 10 s). */
  timeoutMs?: number;
  /** Digests kept while the endpoint is down; the oldest is dropped beyond (default 20). */
  maxQueued?: number;
}

export class WebhookSender {
  private readonly queue: string[] = [];
  private running: Promise<void> | undefined;
  private readonly abort = new AbortController();
  private wait: { handle: unknown; resolve: () => void } | undefined;
  private stopped = false;
  readonly stats = { delivered: 0, failedTries: 0, givenUp: 0, dropped: 0 };

  constructor(private readonly o: WebhookOptions) {}

  get target(): string {
    return webhookForLog(this.o.url);
  }

  /** Queues one digest; returns at once. */
  post(body: unknown): void {
    if (this.stopped) return;
    this.queue.push(JSON.stringify(body));
    const max = this.o.maxQueued ?? 20;
    if (this.queue.length > max) {
      this.queue.shift();
      this.stats.dropped++;
      this.o.log.warn(`alert webhook ${this.target}: more than ${max} digests waiting; the oldest was dropped (the mails carry them too)`);
    }
    this.running ??= this.drain().finally(() => (this.running = undefined));
  }

  /** Aborts a request in flight and the retry wait; resolves when nothing runs any more. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort(new Error('the listener is stopping'));
    if (this.wait) {
      (this.o.timers ?? realTimers).clearTimeout(this.wait.handle);
      this.wait.resolve();
    }
    await this.running;
  }

  private async drain(): Promise<void> {
    while (!this.stopped && this.queue.length > 0) {
      await this.deliver(this.queue[0]!);
      this.queue.shift();
    }
  }

  private async deliver(body: string): Promise<void> {
    const tries = this.o.tries ?? 6;
    let firstError: string | undefined;
    for (let attempt = 1; attempt <= tries && !this.stopped; attempt++) {
      const error = await this.tryOnce(body);
      if (error === undefined) {
        this.stats.delivered++;
        if (firstError !== undefined) this.o.log.info(`alert webhook ${this.target}: digest delivered at try ${attempt}`);
        return;
      }
      if (this.stopped) return;
      this.stats.failedTries++;
      const delay = (this.o.firstDelayMs ?? 10_000) * 2 ** (attempt - 1);
      if (firstError === undefined) {
        firstError = error;
        this.o.log.warn(`alert webhook ${this.target} failed: ${error}; retrying up to ${tries - 1} more time(s) with backoff, from ${Math.round(delay / 1000)} s`);
      }
      if (attempt < tries) await this.sleep(delay);
    }
    if (!this.stopped) {
      this.stats.givenUp++;
      this.o.log.error(`alert webhook ${this.target}: digest NOT delivered after ${tries} tries (last: ${firstError}); the mail carries it too`);
    }
  }

  /** Undefined when the endpoint took it (2xx), else the reason. */
  private async tryOnce(body: string): Promise<string | undefined> {
    try {
      const res = await fetch(this.o.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.o.timeoutMs ?? 10_000)]),
      });
      await res.arrayBuffer().catch(() => undefined); // free the connection
      return res.ok ? undefined : `HTTP ${res.status} ${res.statusText}`.trim();
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      return e.cause?.code ?? e.cause?.message ?? e.message;
    }
  }

  private sleep(ms: number): Promise<void> {
    const timers = this.o.timers ?? realTimers;
    return new Promise<void>((resolve) => {
      const entry = { handle: undefined as unknown, resolve };
      entry.handle = timers.setTimeout(() => {
        this.wait = undefined;
        resolve();
      }, ms);
      this.wait = entry;
    });
  }
}
