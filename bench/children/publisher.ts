// A bench publisher, run as its own process (child_process.fork) so it never shares the event loop
// of what is measured. It connects, says 'ready', waits for 'go', publishes its share of the
// sequence numbers (as fast as a bounded window allows, or paced at a fixed rate), waits for the
// broker to have them all (QoS 1/2: PUBACK/PUBCOMP), reports and exits.
import { connectBench } from './connect.js';
import { benchMessage, wallMs, type BenchFormat } from '../lib/payload.js';

export interface PublisherJob {
  port: number;
  qos: 0 | 1 | 2;
  /** Sequence numbers [from, to) */
  from: number;
  to: number;
  sensors: number;
  /** Messages per second for this publisher; 0 = as fast as the window allows. */
  rate: number;
  /** Publishes not yet completed at most (unpaced mode). */
  window: number;
  /** Send every publish time back (latency runs). */
  recordTimes: boolean;
  clientId: string;
  /** Payload format (default ecc). */
  format?: BenchFormat;
}

export type PublisherReport = {
  type: 'done';
  published: number;
  firstPublishAt: number;
  lastPublishAt: number;
  /** When the broker had acknowledged the last one (QoS 1/2) or it was written (QoS 0). */
  completedAt: number;
  times?: number[];
};

function send(msg: unknown): void {
  process.send?.(msg);
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '{}') as PublisherJob;
  const client = await connectBench(job.port, job.clientId);
  send({ type: 'ready' });
  await new Promise<void>((resolve) => process.once('message', () => resolve()));

  const total = job.to - job.from;
  const times = job.recordTimes ? new Array<number>(total) : undefined;
  let next = job.from;
  let outstanding = 0;
  let completed = 0;
  let firstPublishAt = 0;
  let lastPublishAt = 0;
  let failed: Error | undefined;

  await new Promise<void>((resolve) => {
    const onComplete = (err?: Error): void => {
      if (err && !failed) failed = err;
      outstanding--;
      completed++;
      if (completed === total) resolve();
      else if (job.rate === 0) pump();
    };
    const publishOne = (): void => {
      const now = wallMs();
      if (next === job.from) firstPublishAt = now;
      lastPublishAt = now;
      if (times) times[next - job.from] = now;
      const seq = next++;
      outstanding++;
      const m = benchMessage(job.format ?? 'ecc', seq, job.sensors, now);
      client.publish(m.topic, m.payload, { qos: job.qos }, onComplete);
    };
    // Unpaced: keep `window` publishes outstanding; every completion refills (bounded by `to`).
    const pump = (): void => {
      while (next < job.to && outstanding < job.window) publishOne();
    };
    if (total === 0) return resolve();
    if (job.rate === 0) {
      pump();
      return;
    }
    // Paced: message i is due at start + i/rate; each 1 ms tick sends everything due.
    const start = wallMs();
    const interval = 1000 / job.rate;
    const tick = (): void => {
      const due = Math.min(job.to, job.from + Math.floor((wallMs() - start) / interval) + 1);
      while (next < due) publishOne();
      if (next < job.to) setTimeout(tick, 1);
    };
    tick();
  });
  const completedAt = wallMs();
  if (failed) throw failed;
  const report: PublisherReport = { type: 'done', published: total, firstPublishAt, lastPublishAt, completedAt };
  if (times) report.times = times;
  await new Promise<void>((resolve) => process.send!(report, () => resolve()));
  await client.endAsync();
  process.disconnect();
}

main().catch((err: unknown) => {
  send({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  process.exitCode = 1;
  process.disconnect?.();
});
