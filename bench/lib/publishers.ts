// A group of publisher processes sharing one load: sequence numbers [0, count) split evenly.
import { forkChild, waitExit, type Child } from './children.js';
import type { PublisherJob, PublisherReport } from '../children/publisher.js';
import type { BenchFormat } from './payload.js';

export interface Load {
  qos: 0 | 1 | 2;
  count: number;
  sensors: number;
  publishers: number;
  /** Total messages per second over all publishers; 0 = unpaced. */
  rate: number;
  window?: number;
  recordTimes?: boolean;
  /** Added to every sequence number (several loads into one database). */
  seqOffset?: number;
  /** Payload format (default ecc). */
  format?: BenchFormat;
}

export interface LoadResult {
  published: number;
  firstPublishAt: number;
  lastPublishAt: number;
  completedAt: number;
  /** Publish time by sequence number (recordTimes only). */
  times: Map<number, number>;
}

export class PublisherGroup {
  private children: Child[] = [];

  constructor(
    private readonly port: number,
    private readonly load: Load,
  ) {}

  async ready(): Promise<void> {
    const { count, publishers } = this.load;
    const offset = this.load.seqOffset ?? 0;
    for (let p = 0; p < publishers; p++) {
      const job: PublisherJob = {
        port: this.port,
        qos: this.load.qos,
        from: offset + Math.floor((count * p) / publishers),
        to: offset + Math.floor((count * (p + 1)) / publishers),
        sensors: this.load.sensors,
        rate: this.load.rate / publishers,
        window: this.load.window ?? 1000,
        recordTimes: this.load.recordTimes ?? false,
        clientId: `bench-pub-${process.pid}-${p}-${Math.random().toString(36).slice(2, 8)}`,
      };
      if (this.load.format) job.format = this.load.format;
      this.children.push(forkChild('publisher', job));
    }
    await Promise.all(this.children.map((c) => c.next('ready', 15_000)));
  }

  go(): void {
    for (const c of this.children) c.send({ type: 'go' });
  }

  /** Waits for every publisher to report (bounded), then for it to exit. */
  async done(timeoutMs: number): Promise<LoadResult> {
    try {
      const reports = await Promise.all(this.children.map((c) => c.next<PublisherReport & { from?: number }>('done', timeoutMs)));
      const times = new Map<number, number>();
      reports.forEach((r, p) => {
        if (!r.times) return;
        const from = (this.load.seqOffset ?? 0) + Math.floor((this.load.count * p) / this.load.publishers);
        r.times.forEach((t, i) => times.set(from + i, t));
      });
      return {
        published: reports.reduce((s, r) => s + r.published, 0),
        firstPublishAt: Math.min(...reports.map((r) => r.firstPublishAt)),
        lastPublishAt: Math.max(...reports.map((r) => r.lastPublishAt)),
        completedAt: Math.max(...reports.map((r) => r.completedAt)),
        times,
      };
    } finally {
      await Promise.all(this.children.map((c) => waitExit(c, 5000)));
    }
  }

  async kill(): Promise<void> {
    await Promise.all(this.children.map((c) => c.kill()));
  }
}
