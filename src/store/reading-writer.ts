// Group commit for the ingest path. Messages are queued with an optional "committed" callback;
// the queue is written in one transaction as soon as the event loop has drained the socket
// (setImmediate) or the batch is full. Under load the batch is allowed to grow: while every
// event-loop turn still brings new messages, the commit waits up to as long as the previous commit
// took (SQLite then spends at most about half the thread's time, and a commit of 5 000 rows costs
// far less per row than five of 1 000: see npm run bench). A turn that brings nothing commits at
// once, so a quiet sensor network or a broker that waits for acknowledgements never waits on us.
// Callbacks run only after COMMIT, so an MQTT acknowledgement hung on them never covers an
// uncommitted row. A failed commit (disk full, database locked) keeps the batch and retries with
// backoff; nothing is dropped or acknowledged.
import type { BatchOutcome, IncomingMessage } from './reading-store.js';
import { type Timers, realTimers } from '../timers.js';

/**
 * What the writer commits to: SQLite answers at once, PostgreSQL with a promise. Either way the
 * batch is committed (or not at all) when the answer comes, and only then are messages acknowledged.
 */
export interface BatchStore {
  writeBatch(items: readonly IncomingMessage[]): BatchOutcome | Promise<BatchOutcome>;
}

export interface ReadingWriterOptions {
  /** Rows per transaction at most. */
  maxBatch?: number;
  /** Longest a commit waits for more messages under load, ms (the wait is also capped by the last commit's duration). */
  maxGatherMs?: number;
  /** Queue length above which submit() asks the producer to wait (back-pressure). */
  highWater?: number;
  /** Retry delays after a failed commit: first, then doubled up to max. */
  retryInitialMs?: number;
  retryMaxMs?: number;
  timers?: Timers;
  /** Monotonic clock in ms (tests inject one). */
  now?: () => number;
  onCommitted?: (outcome: BatchOutcome, items: readonly IncomingMessage[]) => void;
  onCommitError?: (err: Error, attempt: number, pending: number) => void;
  onRecovered?: (failedAttempts: number) => void;
}

interface Entry {
  message: IncomingMessage;
  committed?: () => void;
}

export class ReadingWriter {
  private queue: Entry[] = [];
  private scheduled = false;
  private retryTimer: unknown;
  private failedAttempts = 0;
  private drainWaiters: Array<() => void> = [];
  private readonly maxBatch: number;
  private readonly highWater: number;
  private readonly timers: Timers;
  private stopped = false;
  /** An asynchronous commit under way (PostgreSQL): the next waits for it. */
  private inFlight: Promise<boolean> | undefined;
  private readonly maxGatherMs: number;
  private readonly now: () => number;
  /** Messages submitted so far, and at the last look: did the last event-loop turn bring any? */
  private submitted = 0;
  private submittedAtLastTurn = 0;
  private lastCommitEnd = 0;
  private lastCommitMs = 0;
  /** Called after every commit with its duration (ms) and messages: metrics observe through this. */
  readonly commitObservers: Array<(durationMs: number, items: readonly IncomingMessage[]) => void> = [];
  /** Totals since start, for status and alerts. */
  readonly totals = { stored: 0, rejected: 0, duplicates: 0, ignored: 0, commits: 0, failedCommits: 0, commitMs: 0 };

  constructor(
    private readonly store: BatchStore,
    private readonly options: ReadingWriterOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 5000;
    this.highWater = options.highWater ?? 2 * this.maxBatch;
    this.maxGatherMs = options.maxGatherMs ?? 50;
    this.now = options.now ?? (() => performance.now());
    this.timers = options.timers ?? realTimers;
  }

  get pending(): number {
    return this.queue.length;
  }

  /** True while the last commit failed and the queue waits for a retry. */
  get failing(): boolean {
    return this.failedAttempts > 0;
  }

  /**
   * Queues a message. Returns false when the producer should wait for onDrain() before
   * handing over more (the queue is past its high-water mark).
   */
  submit(message: IncomingMessage, committed?: () => void): boolean {
    if (this.stopped) throw new Error('ReadingWriter is stopped');
    this.queue.push(committed ? { message, committed } : { message });
    this.submitted++;
    if (this.queue.length >= this.maxBatch && this.failedAttempts === 0 && !this.inFlight) this.flush();
    else this.schedule();
    return this.queue.length < this.highWater;
  }

  /** Calls cb once the queue is below the high-water mark (at once if it already is). */
  onDrain(cb: () => void): void {
    if (this.queue.length < this.highWater) cb();
    else this.drainWaiters.push(cb);
  }

  /**
   * Commits everything queued now. Returns false if a commit failed (the queue is kept). With an
   * asynchronous store it starts the commit and returns true; settle() waits for the outcome.
   */
  flush(): boolean {
    while (this.queue.length > 0 && !this.inFlight) {
      const batch = this.queue.slice(0, this.maxBatch);
      const messages = batch.map((e) => e.message);
      const started = this.now();
      let result: BatchOutcome | Promise<BatchOutcome>;
      try {
        result = this.store.writeBatch(messages);
      } catch (err) {
        this.failed(err as Error);
        return false;
      }
      if (!isPromise(result)) {
        this.committed(batch, messages, result, started);
        continue;
      }
      const commit = result.then(
        (outcome) => {
          this.inFlight = undefined;
          this.committed(batch, messages, outcome, started);
          this.releaseWaiters();
          if (!this.stopped && this.queue.length > 0) this.schedule();
          return true;
        },
        (err: unknown) => {
          this.inFlight = undefined;
          this.failed(err instanceof Error ? err : new Error(String(err)));
          return false;
        },
      );
      this.inFlight = commit;
      return true;
    }
    if (!this.inFlight) this.releaseWaiters();
    return true;
  }

  /** Waits for the commit under way, then commits everything queued. False if a commit failed. */
  async settle(): Promise<boolean> {
    for (let i = 0; i < 1_000_000; i++) {
      if (this.inFlight && !(await this.inFlight)) return false;
      if (this.queue.length === 0) return true;
      if (!this.flush()) return false;
      if (!this.inFlight && this.queue.length === 0) return true;
    }
    return this.queue.length === 0;
  }

  private committed(batch: readonly Entry[], messages: readonly IncomingMessage[], outcome: BatchOutcome, started: number): void {
    this.queue.splice(0, batch.length);
    if (this.failedAttempts > 0) {
      const attempts = this.failedAttempts;
      this.failedAttempts = 0;
      this.options.onRecovered?.(attempts);
    }
    this.totals.stored += outcome.stored;
    this.totals.rejected += outcome.rejected;
    this.totals.duplicates += outcome.duplicates;
    this.totals.ignored += outcome.ignored;
    this.totals.commits++;
    this.lastCommitEnd = this.now();
    this.lastCommitMs = this.lastCommitEnd - started;
    this.totals.commitMs += this.lastCommitMs;
    for (const e of batch) e.committed?.();
    this.options.onCommitted?.(outcome, messages);
    for (const observe of this.commitObservers) observe(this.lastCommitMs, messages);
  }

  private failed(err: Error): void {
    this.failedAttempts++;
    this.totals.failedCommits++;
    this.options.onCommitError?.(err, this.failedAttempts, this.queue.length);
    this.scheduleRetry();
  }

  /** Final flush; afterwards submit() throws. Resolves to how many messages could not be committed. */
  async stop(): Promise<number> {
    if (this.retryTimer !== undefined) {
      this.timers.clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    this.failedAttempts = 0;
    await this.settle();
    if (this.retryTimer !== undefined) {
      this.timers.clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    this.stopped = true;
    const lost = this.queue.length;
    this.queue = [];
    this.releaseWaiters(true);
    return lost;
  }

  private releaseWaiters(all = false): void {
    if (this.drainWaiters.length === 0) return;
    if (!all && this.queue.length >= this.highWater) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  private schedule(): void {
    if (this.scheduled || this.failedAttempts > 0) return;
    this.scheduled = true;
    setImmediate(() => this.onTurn());
  }

  /** After an event-loop turn: commit now, or (messages still arriving) gather one more turn. */
  private onTurn(): void {
    this.scheduled = false;
    if (this.stopped || this.failedAttempts > 0 || this.queue.length === 0 || this.inFlight) return;
    const arrived = this.submitted !== this.submittedAtLastTurn;
    this.submittedAtLastTurn = this.submitted;
    const gather = Math.min(this.maxGatherMs, this.lastCommitMs);
    if (arrived && this.queue.length < this.maxBatch && this.now() - this.lastCommitEnd < gather) {
      this.scheduled = true;
      setImmediate(() => this.onTurn());
      return;
    }
    this.flush();
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== undefined) return;
    const initial = this.options.retryInitialMs ?? 200;
    const max = this.options.retryMaxMs ?? 10_000;
    const delay = Math.min(max, initial * 2 ** Math.min(this.failedAttempts - 1, 20));
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.stopped) this.flush();
    }, delay);
  }
}

function isPromise<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
}
