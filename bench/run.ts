// `npm run bench [-- --quick]`: ingest throughput, latency and memory of the listener, side by side
// with the raw limits (MQTT.js subscriber, better-sqlite3) and the original's per-message design,
// all on this machine, in one run. Prints a table and writes bench/results/latest.json.
// Rounds are interleaved (every scenario once per round), so a noisy neighbour on a shared machine
// hits ours and the raw limits alike; ratios are taken per round, then their median.
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Command, InvalidArgumentError, Option } from 'commander';
import { REPO_ROOT } from './lib/listener-process.js';
import { Z2M_BENCH_FILTER } from './lib/payload.js';
import { summarizeProfile } from './lib/profile.js';
import { BENCH_LIMITS, MOSQUITTO_DEFAULTS, mosquittoVersion } from './lib/mosquitto.js';
import { bigDb, bigDbCacheDir, type BigDb } from './lib/big-db.js';
import { READ_PROBES } from './lib/read-probes.js';
import { figure, percentile, slope, type Figure } from './lib/stats.js';
import { SECTIONS, plan, type Plan, type Section, type Target } from './plan.js';
import { pageLoad, removeSeededDatabases } from './page-load.js';
import { formatTable } from './report.js';
import * as S from './scenarios.js';
import { retainedAvailability, sensorListLatency } from './http-scenarios.js';
import { postgresPlan, postgresRound, postgresTargets, setPostgresListenerNodeArgs } from './postgres-scenarios.js';

/** Figures by key: one value per round. */
class Results {
  readonly values = new Map<string, number[]>();
  readonly errors: string[] = [];
  readonly notes: string[] = [];

  add(key: string, value: number): void {
    const list = this.values.get(key) ?? [];
    list.push(value);
    this.values.set(key, list);
  }

  last(key: string): number | undefined {
    return this.values.get(key)?.at(-1);
  }

  fig(key: string): Figure | undefined {
    const v = this.values.get(key);
    return v ? figure(v) : undefined;
  }
}

function modeKey(qos: number, durable: boolean): string {
  return `ours.qos${qos}.${durable ? 'durable' : 'normal'}`;
}

async function attempt(results: Results, what: string, fn: () => Promise<void> | void): Promise<void> {
  const t0 = Date.now();
  process.stderr.write(`  ${what} ...`);
  try {
    await fn();
    process.stderr.write(` ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    results.errors.push(`${what}: ${message}`);
    process.stderr.write(` FAILED: ${message}\n`);
  }
}

async function round(p: Plan, only: Set<Section>, r: Results, seed: BigDb | undefined): Promise<void> {
  const load = { count: p.throughputCount, sensors: p.sensors, publishers: p.publishers, rate: 0 };
  const has = (s: Section): boolean => only.has(s);

  if (has('sqlite')) {
    for (const sync of ['NORMAL', 'FULL'] as const) {
      await attempt(r, `better-sqlite3 ${sync}`, () => {
        const x = S.rawSqlite(sync, p.sqliteRows, p.sensors);
        r.add(`sqlite.${sync}.rowsPerSec`, x.rowsPerSec);
        r.add(`sqlite.${sync}.cpuUsPerRow`, x.cpuUsPerRow);
      });
    }
  }
  if (has('raw')) {
    for (const qos of [0, 1] as const) {
      await attempt(r, `raw MQTT.js QoS ${qos}`, async () => {
        const x = await S.rawMqtt(qos, load, BENCH_LIMITS);
        r.add(`raw.qos${qos}.msgsPerSec`, x.msgsPerSec);
        r.add(`raw.qos${qos}.cpuPer100k`, x.cpuSecPer100k);
        r.add(`raw.qos${qos}.peakRssMB`, x.peakRssMB);
        r.add(`raw.qos${qos}.machineBusy`, x.machineBusy);
      });
    }
  }
  if (has('ours')) {
    for (const m of p.oursModes) {
      const k = modeKey(m.qos, m.durable);
      await attempt(r, `listener QoS ${m.qos} ${m.durable ? '--durable' : 'NORMAL'}`, async () => {
        const count = m.qos === 2 ? Math.min(p.qos2Count, load.count) : load.count;
        const x = await S.oursThroughput({ qos: m.qos, durable: m.durable, load: { ...load, count }, limits: BENCH_LIMITS });
        r.add(`${k}.readingsPerSec`, x.readingsPerSec);
        r.add(`${k}.cpuPer100k`, x.cpuSecPer100k);
        r.add(`${k}.peakRssMB`, x.peakRssMB);
        r.add(`${k}.finalRssMB`, x.finalRssMB);
        r.add(`${k}.rowsPerCommit`, x.rowsPerCommit);
        r.add(`${k}.commitShare`, x.commitShare);
        r.add(`${k}.machineBusy`, x.machineBusy);
        r.add(`${k}.lost`, x.expected - x.db.distinctMessages);
        r.add(`${k}.duplicates`, x.db.rows - x.db.distinctMessages);
      });
    }
    for (const qos of [0, 1] as const) {
      const ours = r.last(`${modeKey(qos, false)}.readingsPerSec`);
      const raw = r.last(`raw.qos${qos}.msgsPerSec`);
      if (ours !== undefined && raw !== undefined && has('raw')) r.add(`ratio.qos${qos}.oursOverRaw`, ours / raw);
    }
    // QoS 0 CPU per stored reading against its floor, all three from this round: what MQTT.js
    // costs to receive one message plus what SQLite costs to insert one row (s / 100k = 10 µs).
    const oursUs = r.last(`${modeKey(0, false)}.cpuPer100k`);
    const rawUs = r.last('raw.qos0.cpuPer100k');
    const sqliteUs = r.last('sqlite.NORMAL.cpuUsPerRow');
    if (oursUs !== undefined && rawUs !== undefined && sqliteUs !== undefined && has('raw') && has('sqlite')) {
      r.add('floor.qos0.usPerReading', rawUs * 10 + sqliteUs);
      r.add('ratio.qos0.cpuOverFloor', (oursUs * 10) / (rawUs * 10 + sqliteUs));
    }
  }
  if (has('decode')) {
    // Decode cost end to end: the same load as Zigbee2MQTT JSON (auto-routed, °C -> °F, dew point
    // computed) against ECC payloads, QoS 1, in the same round.
    for (const format of ['ecc', 'z2m'] as const) {
      await attempt(r, `decode: ${format} payloads, QoS 1`, async () => {
        const topics = format === 'z2m' ? [Z2M_BENCH_FILTER] : undefined;
        const x = await S.oursThroughput({ qos: 1, durable: false, load: { ...load, format }, limits: BENCH_LIMITS, ...(topics ? { topics } : {}) });
        r.add(`decode.${format}.readingsPerSec`, x.readingsPerSec);
        r.add(`decode.${format}.cpuPer100k`, x.cpuSecPer100k);
        r.add(`decode.${format}.lost`, x.expected - x.db.distinctMessages);
      });
    }
    const ecc = r.last('decode.ecc.readingsPerSec');
    const z2m = r.last('decode.z2m.readingsPerSec');
    if (ecc !== undefined && z2m !== undefined) r.add('ratio.z2mOverEcc', z2m / ecc);
  }
  if (has('aedes')) {
    // The second broker column: the same load through aedes (in its own process).
    for (const qos of [0, 1] as const) {
      await attempt(r, `aedes: raw MQTT.js QoS ${qos}`, async () => r.add(`aedes.raw.qos${qos}.msgsPerSec`, (await S.rawMqtt(qos, load, 'aedes')).msgsPerSec));
      await attempt(r, `aedes: listener QoS ${qos} NORMAL`, async () => {
        const x = await S.oursThroughput({ qos, durable: false, load, limits: 'aedes' });
        r.add(`aedes.ours.qos${qos}.readingsPerSec`, x.readingsPerSec);
        r.add(`aedes.ours.qos${qos}.lost`, x.expected - x.db.distinctMessages);
      });
      const ours = r.last(`aedes.ours.qos${qos}.readingsPerSec`);
      const raw = r.last(`aedes.raw.qos${qos}.msgsPerSec`);
      if (ours !== undefined && raw !== undefined) r.add(`aedes.ratio.qos${qos}.oursOverRaw`, ours / raw);
    }
  }
  if (has('latency')) {
    for (const rate of p.latencyRates) {
      await attempt(r, `latency at ${rate} msg/s`, async () => {
        const x = await S.oursLatency(rate, p.latencySeconds, false, BENCH_LIMITS);
        const k = `latency.${rate}`;
        r.add(`${k}.commitP50`, x.commitP50);
        r.add(`${k}.commitP95`, x.commitP95);
        r.add(`${k}.commitP99`, x.commitP99);
        r.add(`${k}.commitMax`, x.commitMax);
        r.add(`${k}.receiveP50`, x.receiveP50);
        r.add(`${k}.receiveP99`, x.receiveP99);
        r.add(`${k}.missing`, x.missing);
        r.add(`${k}.cpuPer100k`, x.cpuSecPer100k);
      });
    }
  }
  if (has('idle')) {
    await attempt(r, `idle ${p.idleSeconds} s`, async () => r.add('idle.cpuPercent', (await S.oursIdle(p.idleSeconds, p.idleSettleSeconds, BENCH_LIMITS)).cpuPercentOfCore));
  }
  if (has('original')) {
    const oload = { count: p.original.count, sensors: p.sensors, publishers: 1, rate: p.original.rate };
    await attempt(r, `original design, ${p.original.rate} msg/s`, async () => {
      const x = await S.originalDesign(oload, MOSQUITTO_DEFAULTS, p.original.settleMs, p.original.quietMs);
      r.add('original.storedPerSec', x.storedPerSec);
      r.add('original.lost', x.lost);
      r.add('original.lostPercent', (x.lost / x.published) * 100);
      if (!x.settled) r.notes.push(`original design was still storing at the deadline (${x.stored} of ${x.published})`);
    });
    for (const qos of [0, 1] as const) {
      await attempt(r, `listener QoS ${qos} under the original's load`, async () => {
        const x = await S.oursOutpaced(qos, oload, MOSQUITTO_DEFAULTS, p.original.settleMs);
        r.add(`outpaced.qos${qos}.lost`, x.lost);
      });
    }
    // QoS 1 again with the broker's in-flight window raised (README's advice): with mosquitto's
    // default of 20, ack-after-commit allows one group commit per 20 messages.
    await attempt(r, `listener QoS 1 under the original's load, max_inflight_messages ${BENCH_LIMITS.maxInflightMessages}`, async () => {
      const x = await S.oursOutpaced(1, oload, BENCH_LIMITS, p.original.settleMs);
      r.add('outpaced.qos1bench.lost', x.lost);
    });
    const orig = r.last('original.storedPerSec');
    for (const qos of [0, 1] as const) {
      const ours = r.last(`${modeKey(qos, false)}.readingsPerSec`);
      if (ours !== undefined && orig !== undefined && has('ours')) r.add(`ratio.qos${qos}.oursOverOriginal`, ours / orig);
    }
  }
  if (has('backlog')) {
    await attempt(r, `backlog of ${p.backlogCount}`, async () => {
      const x = await S.backlogDrain({ count: p.backlogCount, sensors: p.sensors, publishers: p.publishers, rate: 0 }, BENCH_LIMITS);
      r.add('backlog.drainPerSec', x.drainPerSec);
      r.add('backlog.seconds', x.drainSeconds);
      r.add('backlog.peakRssMB', x.peakRssMB);
      r.add('backlog.lost', x.queued - x.db.distinctMessages);
      r.add('backlog.duplicates', x.db.rows - x.db.distinctMessages);
      const live = r.last(`${modeKey(1, false)}.readingsPerSec`);
      if (live !== undefined && has('ours')) r.add('ratio.backlogOverLive', x.drainPerSec / live);
    });
  }
  if (seed && (has('growth') || has('reads'))) await bigDatabase(p, has, r, seed);
  if (has('page')) await pageRound(p, r);
  if (has('scaling')) {
    for (const sensors of p.scaling.sensors) {
      await attempt(r, `scaling: ${sensors} sensor(s)`, async () => {
        const x = await S.oursThroughput({
          qos: 1,
          durable: false,
          load: { count: p.scaling.count, sensors, publishers: p.publishers, rate: 0 },
          limits: BENCH_LIMITS,
        });
        r.add(`scaling.${sensors}.readingsPerSec`, x.readingsPerSec);
        r.add(`scaling.${sensors}.peakRssMB`, x.peakRssMB);
        r.add(`scaling.${sensors}.mbPerMillion`, (x.db.readingBytes / x.db.rows) * 1e6 / 1e6);
      });
    }
  }
  if (has('postgres')) {
    await postgresRound(postgresPlan(p.mode === 'quick', p.throughputCount), {
      add: (k, v) => r.add(k, v),
      last: (k) => r.last(k),
      attempt: (what, fn) => attempt(r, what, fn),
      sqliteQos1: async (count) => S.oursThroughput({ qos: 1, durable: false, load: { ...load, count }, limits: BENCH_LIMITS, nodeArgs: [] }),
    });
  }
}

/** Growth (empty vs big database) and reads beside writes (big database, with and without reads). */
async function bigDatabase(p: Plan, has: (s: Section) => boolean, r: Results, seed: BigDb): Promise<void> {
  const load = { count: p.big.count, sensors: p.big.sensors, publishers: p.publishers, rate: 0 };
  const run = async (key: string, what: string, extra: Partial<S.OursOptions>): Promise<void> =>
    attempt(r, what, async () => {
      const x = await S.oursThroughput({ qos: 1, durable: false, load, limits: BENCH_LIMITS, ...extra });
      r.add(`${key}.readingsPerSec`, x.readingsPerSec);
      r.add(`${key}.cpuPer100k`, x.cpuSecPer100k);
      r.add(`${key}.rowsPerCommit`, x.rowsPerCommit);
      r.add(`${key}.peakRssMB`, x.peakRssMB);
      r.add(`${key}.lost`, x.expected - x.db.distinctMessages);
      for (const [name, ms] of Object.entries(x.probeMs ?? {})) {
        r.add(`${key}.probe.${name}.count`, ms.length);
        r.add(`${key}.probe.${name}.p50`, percentile(ms, 50));
        r.add(`${key}.probe.${name}.p95`, percentile(ms, 95));
        r.add(`${key}.probe.${name}.max`, percentile(ms, 100));
      }
    });
  const rows = seed.rows.toLocaleString('en');
  if (has('growth')) await run('growth.empty', `listener QoS 1, ${p.big.sensors} sensors, empty database`, {});
  await run('growth.big', `listener QoS 1, ${p.big.sensors} sensors, ${rows} rows already stored`, { seed });
  if (has('reads')) {
    await run('reads', `listener QoS 1, ${rows} rows, reads beside (${READ_PROBES.map((x) => x.name).join(', ')})`, {
      seed,
      probes: { names: READ_PROBES.map((x) => x.name), pauseMs: p.big.readPauseMs },
    });
  }
  const big = r.last('growth.big.readingsPerSec');
  const empty = r.last('growth.empty.readingsPerSec');
  const reads = r.last('reads.readingsPerSec');
  if (big !== undefined && empty !== undefined && has('growth')) r.add('ratio.growth.bigOverEmpty', big / empty);
  if (big !== undefined && reads !== undefined && has('reads')) r.add('ratio.reads.withOverWithout', reads / big);
}

async function pageRound(p: Plan, r: Results): Promise<void> {
  await attempt(r, `web page: ${p.page.sensors} sensors × ${p.page.days} d, ${p.page.loads} cold load(s) per view`, async () => {
    const x = await pageLoad(p.page);
    for (const ms of x.usableMs24h) r.add('page.usableMs.24h', ms);
    for (const ms of x.usableMs1y) r.add('page.usableMs.1y', ms);
    for (const ms of x.apiMs1y) r.add('page.apiMs.1y', ms);
    r.add('page.readingsKB.1y', x.readingsBytes1y / 1024);
    r.add('page.pageKB.1y', x.pageBytes1y / 1024);
    r.add('page.readings', x.readings);
    r.add('page.seedSeconds', x.seedSeconds);
  });
}

async function millionRun(p: Plan, r: Results, key: string, nodeArgs: string[]): Promise<void> {
  const flags = nodeArgs.length > 0 ? ` with node ${nodeArgs.join(' ')}` : '';
  await attempt(r, `listener QoS 1, ${p.millionCount} readings (RSS)${flags}`, async () => {
    const x = await S.oursThroughput({
      qos: 1,
      durable: false,
      load: { count: p.millionCount, sensors: p.sensors, publishers: p.publishers, rate: 0 },
      limits: BENCH_LIMITS,
      rssEveryMs: 500,
      nodeArgs,
    });
    const n = x.expected;
    const warm = x.rss.filter((s) => s.progress >= 0.2 * n && s.progress < n);
    const at = (f: number): number => x.rss.find((s) => s.progress >= f * n)?.rssMB ?? Number.NaN;
    const maxIn = (from: number, to: number): number =>
      Math.max(...x.rss.filter((s) => s.progress >= from * n && s.progress < to * n).map((s) => s.rssMB));
    r.add(`${key}.readingsPerSec`, x.readingsPerSec);
    r.add(`${key}.peakRssMB`, x.peakRssMB);
    r.add(`${key}.finalRssMB`, x.finalRssMB);
    r.add(`${key}.rssAt20`, at(0.2));
    r.add(`${key}.rssAt60`, at(0.6));
    r.add(`${key}.rssAt100`, x.rss.at(-1)?.rssMB ?? Number.NaN);
    // Growth after warm-up, robust to GC's sawtooth: highest RSS of the last quarter of the
    // readings minus the highest of the second quarter (~0 when flat); plus the fitted slope.
    r.add(`${key}.rssGrowthMB`, maxIn(0.75, 1) - maxIn(0.25, 0.5));
    r.add(`${key}.rssSlopePer100k`, slope(warm.map((s) => [s.progress / 100_000, s.rssMB] as const)));
    r.add(`${key}.fileMBPerMillion`, ((x.db.fileBytes / x.db.rows) * 1e6) / 1e6);
    r.add(`${key}.readingMBPerMillion`, ((x.db.readingBytes / x.db.rows) * 1e6) / 1e6);
    r.add(`${key}.lost`, x.expected - x.db.distinctMessages);
  });
}

function machine(): Record<string, unknown> {
  const db = new Database(':memory:');
  const sqlite = db.prepare('SELECT sqlite_version()').pluck().get() as string;
  db.close();
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    sqlite,
    betterSqlite3: process.env['npm_package_dependencies_better_sqlite3'] ?? '12.11.1',
    mosquitto: mosquittoVersion(),
    kernel: release(),
  };
}

async function main(): Promise<void> {
  const positiveInt = (flag: string) => (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${flag} must be a whole number greater than 0, got ${JSON.stringify(v)}`);
    return n;
  };
  const program = new Command('bench')
    .description('ingest throughput, latency and memory of mqtt-iot-listener against the raw limits and the original design')
    .option('--quick', 'smoke run (< 1 minute): 1 round, small counts')
    .option('--runs <n>', 'rounds (default: 3, quick 1)', positiveInt('--runs'))
    .option('--count <n>', 'messages per throughput run (default: 200000, quick 20000)', positiveInt('--count'))
    .option('--only <sections>', `comma-separated subset of: ${SECTIONS.join(',')}`)
    .option('--out <file>', 'JSON results file', join(REPO_ROOT, 'bench', 'results', 'latest.json'))
    .option('--listener-node-args <flags>', 'extra node flags for every listener process, e.g. "--max-semi-space-size=2"')
    .option('--cpu-prof <dir>', 'instead of measuring: run the listener once (NORMAL) under node --cpu-prof, profile into <dir>')
    .addOption(new Option('--qos <level>', 'QoS of the --cpu-prof run').choices(['0', '1', '2']).default('1'));
  program.parse();
  const opts = program.opts<{ quick?: boolean; runs?: number; count?: number; only?: string; out: string; cpuProf?: string; qos: string; listenerNodeArgs?: string }>();
  if (opts.listenerNodeArgs) S.setListenerNodeArgs(opts.listenerNodeArgs.split(' ').filter(Boolean));
  if (opts.listenerNodeArgs) setPostgresListenerNodeArgs(opts.listenerNodeArgs.split(' ').filter(Boolean));
  const p = plan(opts.quick === true, opts.runs);
  if (opts.count) p.throughputCount = opts.count;

  if (opts.cpuProf) {
    mkdirSync(opts.cpuProf, { recursive: true });
    const x = await S.oursThroughput({
      qos: Number(opts.qos) as 0 | 1 | 2,
      durable: false,
      load: { count: p.throughputCount, sensors: p.sensors, publishers: p.publishers, rate: 0 },
      limits: BENCH_LIMITS,
      nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProf}`],
    });
    process.stdout.write(`profiled ${p.throughputCount} readings at ${Math.round(x.readingsPerSec)} /s; profile in ${opts.cpuProf}\n`);
    const file = readdirSync(opts.cpuProf)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => join(opts.cpuProf!, f))
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
    if (file) process.stdout.write(`${summarizeProfile(file)}\n`);
    return;
  }

  const only = new Set<Section>(
    opts.only ? (opts.only.split(',').map((s) => s.trim()) as Section[]) : p.sections,
  );
  for (const s of only) if (!SECTIONS.includes(s)) throw new InvalidArgumentError(`--only: unknown section ${s}`);
  if (only.has('million') && p.millionCount === 0) p.millionCount = 100_000;

  const started = new Date();
  const m = machine();
  const load0 = loadavg();
  process.stderr.write(`bench (${p.mode}, ${p.runs} round(s)) on ${m['cores']} cores, node ${m['node']}, SQLite ${m['sqlite']}, mosquitto ${m['mosquitto']}; load ${load0.map((l) => l.toFixed(2)).join(' ')}\n`);
  const r = new Results();
  let seed: BigDb | undefined;
  if (only.has('growth') || only.has('reads')) {
    await attempt(r, `database of ${p.big.rows} readings (cached in ${bigDbCacheDir()})`, () => {
      seed = bigDb(p.big.rows, p.big.sensors, (line) => process.stderr.write(`\n    ${line}`));
      if (seed.generatedSeconds > 0) r.add('bigdb.generatedSeconds', seed.generatedSeconds);
      r.notes.push(`big database: ${seed.rows} readings of ${seed.sensors} sensors, ${(seed.bytes / 1e6).toFixed(0)} MB, ${seed.generatedSeconds > 0 ? `generated in ${seed.generatedSeconds.toFixed(0)} s` : 'from the cache'}`);
    });
  }
  for (let i = 1; i <= p.runs; i++) {
    process.stderr.write(`round ${i}/${p.runs}\n`);
    await round(p, only, r, seed);
  }
  removeSeededDatabases();
  if (only.has('million')) {
    await millionRun(p, r, 'million', []);
    if (p.smallMachineNodeArgs.length > 0) await millionRun(p, r, 'millionSmall', p.smallMachineNodeArgs);
  }

  if (only.has('http')) {
    // Once, not per round: building the 10^7-row database takes a minute or more.
    await attempt(r, `/api/sensors on ${p.http.rows} readings of ${p.http.sensors} sensors`, async () => {
      const x = await sensorListLatency(p.http.rows, p.http.sensors, BENCH_LIMITS);
      r.add('http.sensors.p50Ms', x.p50Ms);
      r.add('http.sensors.p95Ms', x.p95Ms);
      r.add('http.sensors.maxMs', x.maxMs);
      r.add('http.sensors.cpuMsPerRequest', x.cpuMsPerRequest);
      r.add('http.sensors.databaseMB', x.databaseMB);
      r.add('http.sensors.buildSeconds', x.buildSeconds);
    });
    for (const [name, limits] of [['bench', BENCH_LIMITS], ['defaults', MOSQUITTO_DEFAULTS]] as const) {
      await attempt(r, `${p.http.availability} retained availability messages (mosquitto ${name})`, async () => {
        const x = await retainedAvailability(p.http.availability, limits);
        r.add(`http.retained.${name}.applied`, x.applied);
        r.add(`http.retained.${name}.seconds`, x.seconds);
      });
    }
  }

  const targets = evaluateTargets(p, r);
  const table = formatTable(p, m, (k) => r.fig(k), targets, r.notes);
  process.stdout.write(`${table}\n`);

  const out = {
    started: started.toISOString(),
    finished: new Date().toISOString(),
    mode: p.mode,
    plan: p,
    machine: { ...m, loadavgStart: load0, loadavgEnd: loadavg() },
    brokers: { bench: BENCH_LIMITS, originalComparison: MOSQUITTO_DEFAULTS },
    figures: Object.fromEntries([...r.values.keys()].sort().map((k) => [k, r.fig(k)])),
    targets,
    notes: r.notes,
    errors: r.errors,
  };
  mkdirSync(join(opts.out, '..'), { recursive: true });
  writeFileSync(opts.out, `${JSON.stringify(out, null, 2)}\n`);
  process.stderr.write(`results written to ${opts.out}\n`);
  if (r.errors.length > 0) {
    process.stderr.write(`${r.errors.length} scenario(s) failed:\n${r.errors.map((e) => `  ${e}`).join('\n')}\n`);
    process.exitCode = 1;
  }
}

function evaluateTargets(p: Plan, r: Results): Target[] {
  const t: Target[] = [];
  const med = (k: string): number | undefined => r.fig(k)?.median;
  const add = (name: string, goal: string, value: number | undefined, ok: (v: number) => boolean, fmt: (v: number) => string): void => {
    if (value === undefined || Number.isNaN(value)) t.push({ name, goal, value: 'not measured', met: null });
    else t.push({ name, goal, value: fmt(value), met: ok(value) });
  };
  const pct = (v: number): string => `${(v * 100).toFixed(0)} %`;
  add('QoS 1 (ack after commit, NORMAL) vs raw MQTT.js QoS 1', '>= 85 %', med('ratio.qos1.oursOverRaw'), (v) => v >= 0.85, pct);
  add(
    'QoS 0: listener CPU per stored reading vs floor (raw MQTT.js receive + raw SQLite insert, same run)',
    '<= 1.5x',
    med('ratio.qos0.cpuOverFloor'),
    (v) => v <= 1.5,
    (v) => `${v.toFixed(2)}x (${med(`${modeKey(0, false)}.cpuPer100k`)! * 10 | 0} µs vs ${(med('floor.qos0.usPerReading') ?? Number.NaN).toFixed(1)} µs)`,
  );
  const share = med('ratio.qos0.oursOverRaw');
  t.push({ name: '  QoS 0 stored rate vs raw MQTT.js QoS 0', goal: 'reported', value: share === undefined ? 'not measured' : pct(share), met: null });
  add('stored readings/s vs the original design (QoS 0)', '>= 20x', med('ratio.qos0.oursOverOriginal'), (v) => v >= 20, (v) => `${v.toFixed(0)}x`);
  const origLost = med('original.lost');
  const oursLost = Math.max(med('outpaced.qos0.lost') ?? Number.NaN, med('outpaced.qos1bench.lost') ?? Number.NaN);
  const lossName = 'loss where the original loses (QoS 0 same broker; QoS 1 with in-flight raised)';
  if (origLost === 0) {
    t.push({ name: lossName, goal: '0', value: `original lost none at this load; ours lost ${oursLost}`, met: null });
  } else {
    add(lossName, '0', origLost === undefined ? undefined : oursLost, (v) => v === 0, (v) => `${v} (original lost ${origLost})`);
  }
  add(
    '  QoS 1 with mosquitto defaults (max_inflight_messages 20, max_queued_messages 1000)',
    '0',
    origLost ? med('outpaced.qos1.lost') : undefined,
    (v) => v === 0,
    (v) => `${v}`,
  );
  add('p99 publish->commit at 1000 msg/s', '<= 50 ms', med('latency.1000.commitP99'), (v) => v <= 50, (v) => `${v.toFixed(1)} ms`);
  const peakKey = r.values.has('million.peakRssMB') ? 'million.peakRssMB' : `${modeKey(1, false)}.peakRssMB`;
  add(
    r.values.has('million.peakRssMB') ? `peak RSS during ${p.millionCount} readings` : `peak RSS (quick: ${p.throughputCount} readings only)`,
    '<= 120 MB',
    r.fig(peakKey)?.max,
    (v) => v <= 120,
    (v) => `${v.toFixed(0)} MB`,
  );
  if (r.values.has('millionSmall.peakRssMB')) {
    add(
      `  same, adding node ${p.smallMachineNodeArgs.join(' ')}`,
      '<= 120 MB',
      r.fig('millionSmall.peakRssMB')?.max,
      (v) => v <= 120,
      (v) => `${v.toFixed(0)} MB`,
    );
  }
  const second = r.fig('million.rssAt60')?.median;
  add(
    'RSS after warm-up (last quarter vs second quarter of the run)',
    'flat (<= +10 %)',
    med('million.rssGrowthMB'),
    (v) => second !== undefined && v <= 0.1 * second,
    (v) => `${v >= 0 ? '+' : ''}${v.toFixed(1)} MB`,
  );
  add(
    `growth: rate with ${p.big.rows} rows already stored vs into an empty database`,
    '>= 80 %',
    med('ratio.growth.bigOverEmpty'),
    (v) => v >= 0.8,
    pct,
  );
  for (const probe of READ_PROBES) {
    add(
      `reads beside a full-speed QoS 1 stream, ${p.big.rows} rows: ${probe.name} p95`,
      `<= ${probe.goalMs} ms`,
      med(`reads.probe.${probe.name}.p95`),
      (v) => v <= probe.goalMs,
      (v) => `${v.toFixed(0)} ms`,
    );
  }
  add('  stream rate with those reads vs without', '>= 90 %', med('ratio.reads.withOverWithout'), (v) => v >= 0.9, pct);
  add(
    `GET /api/sensors, ${p.http.rows} readings of ${p.http.sensors} sensors (p95)`,
    '<= 100 ms',
    med('http.sensors.p95Ms'),
    (v) => v <= 100,
    (v) => `${v.toFixed(1)} ms (median ${(med('http.sensors.p50Ms') ?? Number.NaN).toFixed(1)} ms; listener CPU ${(med('http.sensors.cpuMsPerRequest') ?? Number.NaN).toFixed(1)} ms per request)`,
  );
  add(
    `retained availability messages applied at subscribe (of ${p.http.availability})`,
    'all',
    med('http.retained.bench.applied'),
    (v) => v >= p.http.availability,
    (v) => `${v} in ${(med('http.retained.bench.seconds') ?? Number.NaN).toFixed(1)} s`,
  );
  t.push(...postgresTargets(med));
  add('idle CPU', '< 1 % of a core', med('idle.cpuPercent'), (v) => v < 1, (v) => `${v.toFixed(2)} %`);
  add(`backlog drain vs live QoS 1`, '>= 80 %', med('ratio.backlogOverLive'), (v) => v >= 0.8, pct);
  add('Zigbee2MQTT JSON vs ECC payloads, stored readings/s (QoS 1)', '>= 80 %', med('ratio.z2mOverEcc'), (v) => v >= 0.8, pct);
  const pageSize = `${p.page.sensors} sensors × ${p.page.days} d`;
  add(`web page usable (list + chart of 1 y of one sensor), ${pageSize}, slowest load`, '<= 1 s', r.fig('page.usableMs.1y')?.max, (v) => v <= 1000, (v) => `${v.toFixed(0)} ms`);
  add(`web page usable (list + chart, default 24 h view), ${pageSize}, slowest load`, '<= 1 s', r.fig('page.usableMs.24h')?.max, (v) => v <= 1000, (v) => `${v.toFixed(0)} ms`);
  add('1 y chart of one sensor: readings response', '<= 200 KB', med('page.readingsKB.1y'), (v) => v <= 200, (v) => `${v.toFixed(0)} KB`);
  return t;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
