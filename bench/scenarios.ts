// One function per thing the bench measures. Each starts what it needs (its own mosquitto on a
// free port, temp folder, processes), measures once, and takes everything down again.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ensureSchema } from '../src/store/schema.js';
import { formatMicrosUTC } from '../src/store/time.js';
import { forkChild, waitExit, type Child } from './lib/children.js';
import { copyBigDb, type BigDb } from './lib/big-db.js';
import { checkDatabase, RowWatcher, type DbCheck } from './lib/db.js';
import { ListenerProcess } from './lib/listener-process.js';
import { Mosquitto, type BenchBroker, type BrokerSpec } from './lib/mosquitto.js';
import { encodeSeq, sensorName, wallMs } from './lib/payload.js';
import { cpuSeconds, machineBusy, machineCpu, memoryMB, RssSampler, type RssSample } from './lib/proc.js';
import { PublisherGroup, type Load } from './lib/publishers.js';
import { percentile } from './lib/stats.js';

/** Extra node flags for every listener process (`--listener-node-args`, for experiments). */
let listenerNodeArgs: string[] = [];

export function setListenerNodeArgs(args: string[]): void {
  listenerNodeArgs = args;
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'bench-run-'));
}

function uid(prefix: string): string {
  return `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

class AedesProcess implements BenchBroker {
  private child: Child | undefined;
  port = 0;

  async start(): Promise<void> {
    this.child = forkChild('aedes-broker', {});
    this.port = (await this.child.next<{ port: number }>('ready', 15_000)).port;
  }

  async stop(): Promise<void> {
    const c = this.child;
    this.child = undefined;
    if (!c) return;
    c.send({ type: 'stop' });
    await waitExit(c, 5000);
  }
}

async function withBroker<T>(spec: BrokerSpec, fn: (broker: BenchBroker) => Promise<T>): Promise<T> {
  const broker: BenchBroker = spec === 'aedes' ? new AedesProcess() : new Mosquitto(spec);
  await broker.start();
  try {
    return await fn(broker);
  } finally {
    await broker.stop();
  }
}

/** Enough time for `count` messages at a pessimistic 500/s (a machine shared with other work), plus start-up. */
function deadlineFor(count: number): number {
  return 30_000 + (count / 500) * 1000;
}

// ---------------------------------------------------------------------------------------------
// 1b. Raw SQLite: the same rows as the listener writes, 1000 per transaction, WAL.

export function rawSqlite(synchronous: 'NORMAL' | 'FULL', rows: number, sensors: number): { rowsPerSec: number; cpuUsPerRow: number } {
  const dir = tempDir();
  try {
    const db = new Database(join(dir, 'raw.sqlite3'));
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous}`);
    ensureSchema(db);
    const insert = db.prepare(
      `INSERT INTO ECCTempHum (recordWrittenUTC, dewPointF, temperatureF, relHumidityPercent, battVoltage,
         battPercent, apRSSI, sensorName) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    // The values are made before the clock starts: the floor is the insert itself.
    const base = Date.now() * 1000;
    const values: unknown[][] = [];
    for (let seq = 0; seq < rows; seq++) {
      const { temperatureF, humidity } = encodeSeq(seq);
      values.push([formatMicrosUTC(base + seq * 10), 45.5, Number(temperatureF), Number(humidity), 3.91, 67.8, -61, sensorName(seq % sensors)]);
    }
    const tx = db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) insert.run(...values[i]!);
    });
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    for (let from = 0; from < rows; from += 1000) tx(from, Math.min(rows, from + 1000));
    const cpu = process.cpuUsage(cpu0);
    const seconds = (performance.now() - t0) / 1000;
    db.close();
    // CPU of this thread's process (user + system, µs): the SQLite floor of a stored reading.
    return { rowsPerSec: rows / seconds, cpuUsPerRow: (cpu.user + cpu.system) / rows };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// 1a. Raw MQTT.js subscriber that only counts.

export interface RawMqttResult {
  msgsPerSec: number;
  /** Share of the whole machine's CPU busy during the run (all processes, all cores). */
  machineBusy: number;
  peakRssMB: number;
  cpuSecPer100k: number;
  received: number;
}

export async function rawMqtt(qos: 0 | 1, load: Omit<Load, 'qos'>, limits: BrokerSpec): Promise<RawMqttResult> {
  return withBroker(limits, async (broker) => {
    const sub = forkChild('raw-subscriber', { port: broker.port, qos, expected: load.count, clientId: uid('bench-raw') });
    const group = new PublisherGroup(broker.port, { ...load, qos });
    try {
      await sub.next('ready', 15_000);
      await group.ready();
      const pid = sub.proc.pid!;
      const cpu0 = cpuSeconds(pid);
      const m0 = machineCpu();
      group.go();
      const done = await sub.next<{ received: number; lastAt: number }>('done', deadlineFor(load.count));
      const cpu = cpuSeconds(pid) - cpu0;
      const busy = machineBusy(m0, machineCpu());
      const peakRssMB = memoryMB(pid).peak;
      const pubs = await group.done(10_000);
      return {
        msgsPerSec: done.received / ((done.lastAt - pubs.firstPublishAt) / 1000),
        cpuSecPer100k: (cpu / done.received) * 100_000,
        peakRssMB,
        machineBusy: busy,
        received: done.received,
      };
    } finally {
      await group.kill();
      await waitExit(sub, 5000);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// 2. Our listener: throughput, CPU, RSS (also used for the scaling curve and the 1 M run).

export interface OursResult {
  readingsPerSec: number;
  /** Latencies of each read probe in ms, by probe name (when probes were asked for). */
  probeMs?: Record<string, number[]>;
  seconds: number;
  cpuSecPer100k: number;
  peakRssMB: number;
  finalRssMB: number;
  expected: number;
  db: DbCheck;
  rss: RssSample[];
  /** Rows per commit and share of the run spent committing (from the listener's log). */
  rowsPerCommit: number;
  commitShare: number;
  machineBusy: number;
}

export interface OursOptions {
  qos: 0 | 1 | 2;
  durable: boolean;
  load: Omit<Load, 'qos'>;
  limits: BrokerSpec;
  rssEveryMs?: number;
  nodeArgs?: string[];
  /** Folder for --cpu-prof output (the listener's cwd is its temp folder otherwise). */
  keepDir?: boolean;
  /** Start from a copy of this database (growth, reads beside writes) instead of an empty one. */
  seed?: BigDb;
  /** Read probes run in a separate process while the readings stream (reads beside writes). */
  probes?: { names: readonly string[]; pauseMs: number };
  /** --topic filters for the listener (the z2m decode bench). */
  topics?: string[];
  logLevel?: 'info' | 'debug';
}

export async function oursThroughput(o: OursOptions): Promise<OursResult> {
  return withBroker(o.limits, async (broker) => {
    const dir = tempDir();
    const listener = new ListenerProcess({
      port: broker.port,
      dir,
      qos: o.qos,
      durable: o.durable,
      clientId: uid('bench-ours'),
      nodeArgs: [...listenerNodeArgs, ...(o.nodeArgs ?? [])],
      ...(o.topics ? { args: o.topics.flatMap((t) => ['--topic', t]) } : {}),
      ...(o.logLevel ? { logLevel: o.logLevel } : {}),
    });
    // A seeded database's rows have rowids 1..rows (generated, never deleted): ours come after.
    const base = o.seed?.rows ?? 0;
    if (o.seed) copyBigDb(o.seed, listener.dbFile);
    const group = new PublisherGroup(broker.port, { ...o.load, qos: o.qos });
    const watcher = new RowWatcher(listener.dbFile);
    const reader = o.probes ? forkChild('reader', { dbFile: listener.dbFile, probes: o.probes.names, pauseMs: o.probes.pauseMs }) : undefined;
    let sampler: RssSampler | undefined;
    try {
      await listener.start();
      const pid = listener.pid;
      sampler = new RssSampler(pid, o.rssEveryMs ?? 100, () => watcher.count() - base);
      await group.ready();
      if (reader) await reader.next('ready', 15_000);
      const cpu0 = cpuSeconds(pid);
      const m0 = machineCpu();
      sampler.start();
      group.go();
      reader?.send({ type: 'go' });
      const doneAt = await watcher.waitForCount(base + o.load.count, deadlineFor(o.load.count));
      const cpu = cpuSeconds(pid) - cpu0;
      const busy = machineBusy(m0, machineCpu());
      reader?.send({ type: 'stop' });
      const probed = reader ? await reader.next<{ ms: Record<string, number[]> }>('done', 30_000) : undefined;
      const pubs = await group.done(10_000);
      if (doneAt === undefined) throw new Error(`listener stored ${watcher.count() - base} of ${o.load.count} readings before the deadline`);
      await new Promise((r) => setTimeout(r, 300));
      const finalRssMB = sampler.sample();
      sampler.stop();
      const peakRssMB = Math.max(sampler.peakMB, memoryMB(pid).peak);
      watcher.close();
      const code = await listener.stop();
      if (code !== 0) throw new Error(`listener exited with code ${code}: ${listener.errors}`);
      const seconds = (doneAt - pubs.firstPublishAt) / 1000;
      const commits = listener.commitStats();
      const result: OursResult = {
        rowsPerCommit: commits ? o.load.count / commits.commits : Number.NaN,
        machineBusy: busy,
        commitShare: commits ? commits.commitMs / 1000 / seconds : Number.NaN,
        readingsPerSec: o.load.count / seconds,
        seconds,
        cpuSecPer100k: (cpu / o.load.count) * 100_000,
        peakRssMB,
        finalRssMB,
        expected: o.load.count,
        db: checkDatabase(listener.dbFile, base),
        rss: sampler.samples,
      };
      if (probed) result.probeMs = probed.ms;
      return result;
    } finally {
      sampler?.stop();
      watcher.close();
      if (reader) await waitExit(reader, 5000);
      await group.kill();
      await listener.stop();
      if (!o.keepDir) rmSync(dir, { recursive: true, force: true });
    }
  });
}

// ---------------------------------------------------------------------------------------------
// 2. Latency publish -> commit at a paced rate.

export interface LatencyResult {
  /** publish -> row seen committed by the bench's poller (every 2 ms): an upper bound. */
  commitP50: number;
  commitP95: number;
  commitP99: number;
  commitMax: number;
  /** publish -> receive time the listener wrote (recordWrittenUTC). */
  receiveP50: number;
  receiveP99: number;
  measured: number;
  missing: number;
  cpuSecPer100k: number;
}

export async function oursLatency(rate: number, seconds: number, durable: boolean, limits: BrokerSpec): Promise<LatencyResult> {
  return withBroker(limits, async (broker) => {
    const dir = tempDir();
    const count = Math.round(rate * seconds);
    const listener = new ListenerProcess({ port: broker.port, dir, qos: 1, durable, clientId: uid('bench-lat'), nodeArgs: listenerNodeArgs });
    const group = new PublisherGroup(broker.port, { qos: 1, count, sensors: 100, publishers: 1, rate, recordTimes: true });
    const watcher = new RowWatcher(listener.dbFile);
    try {
      await listener.start();
      const pid = listener.pid;
      await group.ready();
      const cpu0 = cpuSeconds(pid);
      group.go();
      const seen = await watcher.followCommits(count, seconds * 1000 + deadlineFor(count), 2);
      const cpu = cpuSeconds(pid) - cpu0;
      const pubs = await group.done(10_000);
      // The first 5 % warm the JIT and the connection up; they are left out.
      const warmup = Math.floor(count * 0.05);
      const commit: number[] = [];
      const receive: number[] = [];
      let missing = 0;
      for (let seq = warmup; seq < count; seq++) {
        const t = pubs.times.get(seq);
        const s = seen.get(seq);
        if (t === undefined || s === undefined) {
          missing++;
          continue;
        }
        commit.push(s.seenAt - t);
        receive.push(s.receivedAt - t);
      }
      return {
        commitP50: percentile(commit, 50),
        commitP95: percentile(commit, 95),
        commitP99: percentile(commit, 99),
        commitMax: percentile(commit, 100),
        receiveP50: percentile(receive, 50),
        receiveP99: percentile(receive, 99),
        measured: commit.length,
        missing,
        cpuSecPer100k: (cpu / count) * 100_000,
      };
    } finally {
      watcher.close();
      await group.kill();
      await listener.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Idle: CPU with no traffic (timers must not spin).

export async function oursIdle(seconds: number, settleSeconds: number, limits: BrokerSpec): Promise<{ cpuPercentOfCore: number }> {
  return withBroker(limits, async (broker) => {
    const dir = tempDir();
    const listener = new ListenerProcess({ port: broker.port, dir, qos: 1, durable: false, clientId: uid('bench-idle'), nodeArgs: listenerNodeArgs });
    try {
      await listener.start();
      // Start-up work (module loading, JIT, V8's memory-reducing GCs that follow it) is not idling.
      await new Promise((r) => setTimeout(r, settleSeconds * 1000));
      const cpu0 = cpuSeconds(listener.pid);
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, seconds * 1000));
      const cpu = cpuSeconds(listener.pid) - cpu0;
      return { cpuPercentOfCore: (cpu / ((performance.now() - t0) / 1000)) * 100 };
    } finally {
      await listener.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

// ---------------------------------------------------------------------------------------------
// 3. The original's design under a publisher that outpaces it; and ours under the same load.

export interface OutpacedResult {
  published: number;
  stored: number;
  lost: number;
  storedPerSec: number;
  /** False if it was still storing at the deadline (then `lost` counts what was still queued). */
  settled: boolean;
}

export async function originalDesign(load: Omit<Load, 'qos'>, limits: BrokerSpec, settleTimeoutMs: number, quietMs: number): Promise<OutpacedResult> {
  return withBroker(limits, async (broker) => {
    const dir = tempDir();
    const dbFile = join(dir, 'ECCTempHum.sqlite3');
    const original = forkChild('original-listener', { port: broker.port, dbFile, clientId: uid('bench-orig') });
    const group = new PublisherGroup(broker.port, { ...load, qos: 0 });
    try {
      await original.next('ready', 15_000);
      await group.ready();
      group.go();
      const pubs = await group.done(deadlineFor(load.count));
      // Its progress is read from the database: the original's handler blocks its event loop for
      // as long as the socket has data, so it would not answer IPC in time.
      const watcher = new RowWatcher(dbFile);
      try {
        const s = await watcher.waitUntilStable(quietMs, settleTimeoutMs, 100, load.count);
        return {
          published: pubs.published,
          stored: s.count,
          lost: pubs.published - s.count,
          storedPerSec: s.count / ((s.lastChangeAt - pubs.firstPublishAt) / 1000),
          settled: s.settled,
        };
      } finally {
        watcher.close();
      }
    } finally {
      original.send({ type: 'stop' });
      await waitExit(original, 5000);
      await group.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

export async function oursOutpaced(qos: 0 | 1, load: Omit<Load, 'qos'>, limits: BrokerSpec, settleTimeoutMs: number): Promise<OutpacedResult> {
  return withBroker(limits, async (broker) => {
    const dir = tempDir();
    const listener = new ListenerProcess({ port: broker.port, dir, qos, durable: false, clientId: uid('bench-outpaced'), nodeArgs: listenerNodeArgs });
    const group = new PublisherGroup(broker.port, { ...load, qos });
    const watcher = new RowWatcher(listener.dbFile);
    try {
      await listener.start();
      await group.ready();
      group.go();
      const pubs = await group.done(deadlineFor(load.count));
      const s = await watcher.waitUntilStable(3000, settleTimeoutMs, 20, load.count);
      const doneAt = s.lastChangeAt;
      const settled = s.settled;
      const stored = watcher.count();
      return {
        published: pubs.published,
        stored,
        lost: pubs.published - stored,
        storedPerSec: stored / ((doneAt - pubs.firstPublishAt) / 1000),
        settled,
      };
    } finally {
      watcher.close();
      await group.kill();
      await listener.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

// ---------------------------------------------------------------------------------------------
// 4. Backlog: QoS 1 readings queued by the broker while the listener is stopped.

export interface BacklogResult {
  queued: number;
  drainSeconds: number;
  drainPerSec: number;
  peakRssMB: number;
  db: DbCheck;
}

export async function backlogDrain(load: Omit<Load, 'qos'>, limits: BrokerSpec): Promise<BacklogResult> {
  return withBroker(limits, async (broker) => {
    const dir = tempDir();
    const listener = new ListenerProcess({ port: broker.port, dir, qos: 1, durable: false, clientId: uid('bench-backlog'), nodeArgs: listenerNodeArgs });
    const group = new PublisherGroup(broker.port, { ...load, qos: 1 });
    const watcher = new RowWatcher(listener.dbFile);
    let sampler: RssSampler | undefined;
    try {
      // First run creates the persistent session (stable client id, clean session off).
      await listener.start();
      if ((await listener.stop()) !== 0) throw new Error(`listener exited badly: ${listener.errors}`);
      await group.ready();
      group.go();
      await group.done(deadlineFor(load.count)); // every publish acknowledged by the broker: all queued
      const t0 = wallMs();
      await listener.start(30_000);
      sampler = new RssSampler(listener.pid, 100);
      sampler.start();
      const doneAt = await watcher.waitForCount(load.count, deadlineFor(load.count));
      if (doneAt === undefined) throw new Error(`backlog: ${watcher.count()} of ${load.count} stored before the deadline`);
      await new Promise((r) => setTimeout(r, 300)); // a redelivery would show up as an extra row
      sampler.stop();
      const peakRssMB = Math.max(sampler.peakMB, memoryMB(listener.pid).peak);
      watcher.close();
      await listener.stop();
      const seconds = (doneAt - t0) / 1000;
      return { queued: load.count, drainSeconds: seconds, drainPerSec: load.count / seconds, peakRssMB, db: checkDatabase(listener.dbFile) };
    } finally {
      sampler?.stop();
      watcher.close();
      await group.kill();
      await listener.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
