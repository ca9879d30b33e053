// The `postgres` bench section (issue 15, point 6): QoS 1 readings from mosquitto stored in
// PostgreSQL by the real listener CLI, one listener, then the same load split over 2 and 3
// listeners of one share group (`--share-group bench`, each its own client id), beside the same
// round's SQLite figure. PostgreSQL is a private Debian instance with production settings: fsync,
// synchronous_commit and full_page_writes on (PostgreSQL's defaults), so a commit is on disk.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ListenerProcess } from './lib/listener-process.js';
import { BENCH_LIMITS, Mosquitto } from './lib/mosquitto.js';
import { PgRowWatcher } from './lib/pg-rows.js';
import { PostgresServer } from './lib/postgres.js';
import { cpuSeconds, machineBusy, machineCpu, memoryMB } from './lib/proc.js';
import { PublisherGroup, type Load } from './lib/publishers.js';
import type { Figure } from './lib/stats.js';
import type { Target } from './plan.js';

export interface PostgresPlan {
  count: number;
  /** Listener counts: 1 runs without a share group (as one listener is run), more in `--share-group bench`. */
  listeners: number[];
  sensors: number;
  publishers: number;
}

/** Quick (CI smoke): one small run so the harness never rots. Full: the plan's throughput count. */
export function postgresPlan(quick: boolean, throughputCount: number): PostgresPlan {
  return quick
    ? { count: 5000, listeners: [1], sensors: 100, publishers: 2 }
    : { count: throughputCount, listeners: [1, 2, 3], sensors: 100, publishers: 2 };
}

/** Extra node flags for the listeners (`--listener-node-args`, e.g. --cpu-prof --cpu-prof-dir=…). */
let nodeArgs: string[] = [];
export function setPostgresListenerNodeArgs(args: string[]): void {
  nodeArgs = args;
}

export interface PgRunResult {
  readingsPerSec: number;
  seconds: number;
  /** Listener CPU (all members) per 100 000 readings. */
  cpuSecPer100k: number;
  /** PostgreSQL's CPU (postmaster and all its processes) per 100 000 readings. */
  pgCpuSecPer100k: number;
  peakRssMB: number;
  machineBusy: number;
  lost: number;
  duplicates: number;
}

/** Enough for `count` messages at a pessimistic 1000/s on a loaded machine, plus start-up. */
function deadlineFor(count: number): number {
  return 30_000 + count;
}

async function createDatabase(server: PostgresServer, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: server.url('postgres') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  return server.url(name);
}

/** CPU seconds of a process and its direct children (PostgreSQL: the postmaster and its backends). */
function treeCpuSeconds(root: number): number {
  let total = cpuSeconds(root);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === root) total += cpuSeconds(Number(entry)) || 0;
    } catch {
      /* gone meanwhile */
    }
  }
  return total;
}

let runNumber = 0;

/** One run: `listeners` listener processes store `load` (QoS 1) into a fresh database of `server`. */
export async function pgThroughput(server: PostgresServer, listeners: number, load: Omit<Load, 'qos'>): Promise<PgRunResult> {
  const url = await createDatabase(server, `bench_${process.pid}_${++runNumber}_${Math.random().toString(36).slice(2, 8)}`);
  const broker = new Mosquitto(BENCH_LIMITS);
  await broker.start();
  const dirs: string[] = [];
  const members: ListenerProcess[] = [];
  const group = new PublisherGroup(broker.port, { ...load, qos: 1 });
  const watcher = new PgRowWatcher(url);
  try {
    for (let i = 0; i < listeners; i++) {
      const dir = mkdtempSync(join(tmpdir(), 'bench-pg-'));
      dirs.push(dir);
      members.push(
        new ListenerProcess({
          port: broker.port,
          dir,
          qos: 1,
          durable: false,
          clientId: `bench-pg-${process.pid}-${runNumber}-${i}`,
          db: url,
          nodeArgs,
          args: listeners > 1 ? ['--share-group', 'bench'] : [],
        }),
      );
    }
    // One after the other: the first creates the tables (the others would wait on its lock anyway).
    for (const m of members) await m.start(60_000);
    await group.ready();
    const pids = members.map((m) => m.pid);
    const cpu0 = pids.reduce((s, pid) => s + cpuSeconds(pid), 0);
    const pgCpu0 = treeCpuSeconds(server.pid!);
    const m0 = machineCpu();
    group.go();
    const doneAt = await watcher.waitForCount(load.count, deadlineFor(load.count));
    const cpu = pids.reduce((s, pid) => s + cpuSeconds(pid), 0) - cpu0;
    const pgCpu = treeCpuSeconds(server.pid!) - pgCpu0;
    const busy = machineBusy(m0, machineCpu());
    const peakRssMB = Math.max(...pids.map((pid) => memoryMB(pid).peak));
    const pubs = await group.done(10_000);
    if (doneAt === undefined) throw new Error(`${listeners} listener(s) stored ${await watcher.count()} of ${load.count} readings before the deadline`);
    await new Promise((r) => setTimeout(r, 300)); // a redelivery would show up as an extra row
    for (const m of members) {
      const code = await m.stop();
      if (code !== 0) throw new Error(`listener exited with code ${code}: ${m.errors}`);
    }
    const db = await watcher.check();
    const seconds = (doneAt - pubs.firstPublishAt) / 1000;
    return {
      readingsPerSec: load.count / seconds,
      seconds,
      cpuSecPer100k: (cpu / load.count) * 100_000,
      pgCpuSecPer100k: (pgCpu / load.count) * 100_000,
      peakRssMB,
      machineBusy: busy,
      lost: load.count - db.distinctMessages,
      duplicates: db.rows - db.distinctMessages,
    };
  } finally {
    await watcher.close();
    await group.kill();
    for (const m of members) await m.stop();
    await broker.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

/** What run.ts lends the section: its per-round results and its error-catching wrapper. */
export interface SectionHooks {
  add(key: string, value: number): void;
  last(key: string): number | undefined;
  attempt(what: string, fn: () => Promise<void>): Promise<void>;
  /** An SQLite QoS 1 run of `count` readings (run.ts's oursThroughput). */
  sqliteQos1(count: number): Promise<{ readingsPerSec: number; cpuSecPer100k: number }>;
}

/** One round of the section: SQLite (taken from the round's `ours` run when it had one), then PostgreSQL. */
export async function postgresRound(p: PostgresPlan, h: SectionHooks): Promise<void> {
  const load = { count: p.count, sensors: p.sensors, publishers: p.publishers, rate: 0 };
  const sameRound = h.last('ours.qos1.normal.readingsPerSec');
  if (sameRound !== undefined) {
    h.add('postgres.sqlite.readingsPerSec', sameRound);
    h.add('postgres.sqlite.cpuPer100k', h.last('ours.qos1.normal.cpuPer100k') ?? Number.NaN);
  } else {
    await h.attempt(`SQLite, 1 listener, QoS 1 (${p.count} readings)`, async () => {
      const x = await h.sqliteQos1(p.count);
      h.add('postgres.sqlite.readingsPerSec', x.readingsPerSec);
      h.add('postgres.sqlite.cpuPer100k', x.cpuSecPer100k);
    });
  }

  let server: PostgresServer | undefined;
  await h.attempt('PostgreSQL: initdb and start (fsync on)', async () => {
    server = new PostgresServer({ fsync: true });
    await server.start();
  });
  if (!server) return;
  try {
    for (const n of p.listeners) {
      await h.attempt(`PostgreSQL, ${n} listener(s)${n > 1 ? ' in one share group' : ''}, QoS 1 (${p.count} readings)`, async () => {
        const x = await pgThroughput(server!, n, load);
        const k = `postgres.pg${n}`;
        h.add(`${k}.readingsPerSec`, x.readingsPerSec);
        h.add(`${k}.cpuPer100k`, x.cpuSecPer100k);
        h.add(`${k}.pgCpuPer100k`, x.pgCpuSecPer100k);
        h.add(`${k}.peakRssMB`, x.peakRssMB);
        h.add(`${k}.machineBusy`, x.machineBusy);
        h.add(`${k}.lost`, x.lost);
        h.add(`${k}.duplicates`, x.duplicates);
      });
    }
  } finally {
    await server.destroy();
  }
}

/** Rows for report.ts's ingest table (same columns). */
export function postgresRows(fig: (key: string) => Figure | undefined, cell: (f: Figure | undefined, digits?: number) => string, pctCell: (f: Figure | undefined) => string): string[][] {
  const rows: string[][] = [];
  if (fig('postgres.sqlite.readingsPerSec')) {
    rows.push(['postgres section: SQLite, 1 listener, QoS 1 (same round)', cell(fig('postgres.sqlite.readingsPerSec')), '', cell(fig('postgres.sqlite.cpuPer100k'), 1), '', '', '', '']);
  }
  for (const n of [1, 2, 3, 4, 5, 6]) {
    const k = `postgres.pg${n}`;
    if (!fig(`${k}.readingsPerSec`)) continue;
    const lost = `lost ${cell(fig(`${k}.lost`))}, twice ${cell(fig(`${k}.duplicates`))}`;
    rows.push([
      `PostgreSQL (fsync on), ${n} listener${n > 1 ? 's, one share group' : ''}, QoS 1 (${lost})`,
      cell(fig(`${k}.readingsPerSec`)),
      '',
      `${cell(fig(`${k}.cpuPer100k`), 1)} + PostgreSQL ${cell(fig(`${k}.pgCpuPer100k`), 1)}`,
      cell(fig(`${k}.peakRssMB`)),
      '',
      '',
      pctCell(fig(`${k}.machineBusy`)),
    ]);
  }
  return rows;
}

export function postgresTargets(median: (key: string) => number | undefined): Target[] {
  const v = median('postgres.pg1.readingsPerSec');
  const lost = Math.max(...[1, 2, 3].map((n) => (median(`postgres.pg${n}.lost`) ?? 0) + (median(`postgres.pg${n}.duplicates`) ?? 0)));
  const t: Target[] = [];
  t.push(
    v === undefined
      ? { name: 'PostgreSQL, 1 listener, QoS 1 (fsync on)', goal: '>= 10 000 readings/s', value: 'not measured', met: null }
      : { name: 'PostgreSQL, 1 listener, QoS 1 (fsync on)', goal: '>= 10 000 readings/s', value: `${Math.round(v)} /s`, met: v >= 10_000 },
  );
  if (v !== undefined) t.push({ name: 'PostgreSQL runs: readings lost or stored twice', goal: '0', value: String(lost), met: lost === 0 });
  return t;
}
