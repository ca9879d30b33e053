// The raw limit of the MQTT side: an MQTT.js subscriber that only counts messages (MQTT.js
// acknowledges each QoS 1 message as soon as it is handed over). Its own process, like ours.
import { connectBench } from './connect.js';
import { BENCH_TOPIC, wallMs } from '../lib/payload.js';

interface Job {
  port: number;
  qos: 0 | 1;
  expected: number;
  clientId: string;
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '{}') as Job;
  const client = await connectBench(job.port, job.clientId);
  let received = 0;
  let firstAt = 0;
  let lastAt = 0;
  const done = new Promise<void>((resolve) => {
    client.on('message', () => {
      const now = wallMs();
      if (received === 0) firstAt = now;
      lastAt = now;
      received++;
      if (received === job.expected) resolve();
    });
  });
  await client.subscribeAsync(BENCH_TOPIC, { qos: job.qos });
  process.send?.({ type: 'ready' });
  // The parent kills us if the publishers fail; its timeout bounds this wait.
  await done;
  process.send?.({ type: 'done', received, firstAt, lastAt });
  await client.endAsync();
  process.disconnect();
}

main().catch((err: unknown) => {
  process.send?.({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  process.exitCode = 1;
  process.disconnect?.();
});
