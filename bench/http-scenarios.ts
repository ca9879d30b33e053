// The status service's figures: GET /api/sensors on a 10⁷-row, 1 000-sensor database (target
// ≤ 100 ms), and 10 000 retained availability messages at subscribe time, all applied. Both run
// the real listener CLI against mosquitto and ask it over real HTTP.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { bigDb, copyBigDb } from './lib/big-db.js';
import { ListenerProcess } from './lib/listener-process.js';
import { freePort, Mosquitto, type BrokerLimits } from './lib/mosquitto.js';
import { cpuSeconds } from './lib/proc.js';
import { percentile } from './lib/stats.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'bench-http-'));
}

async function getText(url: string): Promise<{ ms: number; status: number; text: string }> {
  const t0 = performance.now();
  const res = await fetch(url);
  const text = await res.text();
  return { ms: performance.now() - t0, status: res.status, text };
}

async function withListener<T>(
  dir: string,
  limits: BrokerLimits,
  args: string[],
  fn: (base: string, listener: ListenerProcess) => Promise<T>,
  before?: (broker: Mosquitto) => Promise<void>,
): Promise<T> {
  const broker = new Mosquitto(limits);
  await broker.start();
  const httpPort = await freePort();
  const listener = new ListenerProcess({ port: broker.port, dir, qos: 1, durable: false, clientId: `bench-http-${process.pid}`, args: ['--http', String(httpPort), '--db-archive-size', '1e13', ...args] });
  try {
    await before?.(broker);
    await listener.start(120_000);
    return await fn(`http://127.0.0.1:${httpPort}`, listener);
  } finally {
    await listener.stop();
    await broker.stop();
  }
}

export interface SensorListFigures {
  rows: number;
  sensors: number;
  buildSeconds: number;
  databaseMB: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  /** The listener's own CPU time per request (user + system): what a busy machine cannot inflate. */
  cpuMsPerRequest: number;
}

/** GET /api/sensors timed `requests` times (after two warm-up requests) on a freshly built database. */
export async function sensorListLatency(rows: number, sensors: number, limits: BrokerLimits, requests = 20): Promise<SensorListFigures> {
  const dir = tempDir();
  try {
    const file = join(dir, 'ECCTempHum.sqlite3');
    // The bench's shared generated database (cached under bench/results/cache), copied for this run.
    const big = bigDb(rows, sensors);
    copyBigDb(big, file);
    const buildSeconds = big.generatedSeconds;
    const databaseMB = statSync(file).size / 1e6;
    return await withListener(dir, limits, [], async (base, listener) => {
      const times: number[] = [];
      let cpuMs = 0;
      for (let i = 0; i < requests + 2; i++) {
        const cpu0 = cpuSeconds(listener.pid);
        const r = await getText(`${base}/api/sensors`);
        if (i >= 2) cpuMs += (cpuSeconds(listener.pid) - cpu0) * 1000;
        if (r.status !== 200) throw new Error(`/api/sensors answered ${r.status}: ${r.text.slice(0, 200)}`);
        const n = (JSON.parse(r.text) as unknown[]).length;
        if (n !== sensors) throw new Error(`/api/sensors listed ${n} sensors, expected ${sensors}`);
        if (i >= 2) times.push(r.ms);
      }
      return { rows, sensors, buildSeconds, databaseMB, p50Ms: percentile(times, 50), p95Ms: percentile(times, 95), maxMs: Math.max(...times), cpuMsPerRequest: cpuMs / requests };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface RetainedFigures {
  published: number;
  applied: number;
  /** From the listener's subscription until every device's state was applied (and stored). */
  seconds: number;
}

/** `count` devices whose retained LWT waits on the broker before the listener subscribes. */
export async function retainedAvailability(count: number, limits: BrokerLimits, timeoutMs = 120_000): Promise<RetainedFigures> {
  const dir = tempDir();
  const stateOf = (i: number): 'Online' | 'Offline' => (i % 3 === 0 ? 'Offline' : 'Online');
  try {
    const publishRetained = async (broker: Mosquitto): Promise<void> => {
      const client = await mqtt.connectAsync({ host: '127.0.0.1', port: broker.port, clientId: `bench-lwt-${process.pid}` });
      for (let i = 0; i < count; i += 500) {
        const batch: Array<Promise<unknown>> = [];
        for (let j = i; j < Math.min(count, i + 500); j++) batch.push(client.publishAsync(`tele/dev${String(j).padStart(5, '0')}/LWT`, stateOf(j), { qos: 1, retain: true }));
        await Promise.all(batch);
      }
      await client.endAsync();
    };
    return await withListener(
      dir,
      limits,
      ['--availability-topic', 'tele/+/LWT'],
      async (base) => {
        const started = performance.now();
        const deadline = Date.now() + timeoutMs;
        let applied = 0;
        let last = -1;
        let quietSince = Date.now();
        while (Date.now() < deadline) {
          const m = /^mqtt_iot_listener_availability_changes_total (\d+)/m.exec((await getText(`${base}/metrics`)).text);
          applied = Number(m?.[1] ?? 0);
          if (applied >= count) break;
          if (applied !== last) quietSince = Date.now();
          else if (Date.now() - quietSince > 10_000) break; // nothing more is coming
          last = applied;
          await new Promise((r) => setTimeout(r, 50));
        }
        const seconds = (performance.now() - started) / 1000;
        const list = JSON.parse((await getText(`${base}/api/sensors`)).text) as Array<{ name: string; status: string }>;
        const wrong = list.filter((s) => s.status !== (stateOf(Number(s.name.slice(3))) === 'Online' ? 'online' : 'offline'));
        if (applied >= count && wrong.length > 0) throw new Error(`${wrong.length} device(s) show the wrong state, e.g. ${JSON.stringify(wrong[0])}`);
        return { published: count, applied, seconds };
      },
      publishRetained,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
