// The bench's stdout: Markdown tables (pasteable into README.md), each figure the median of the
// rounds with its min–max.
import type { Plan, Target } from './plan.js';
import { LAUNCHER_NODE_FLAGS } from './lib/listener-process.js';
import { READ_PROBES } from './lib/read-probes.js';
import type { Figure } from './lib/stats.js';
import { postgresRows } from './postgres-scenarios.js';

type Fig = (key: string) => Figure | undefined;

function num(v: number, digits: number): string {
  if (!Number.isFinite(v)) return '–';
  const fixed = v.toFixed(digits);
  const [int, frac] = fixed.split('.');
  const grouped = int!.replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f');
  return frac ? `${grouped}.${frac}` : grouped;
}

function cell(f: Figure | undefined, digits = 0): string {
  if (!f || !Number.isFinite(f.median)) return '–';
  if (f.runs.length < 2 || f.min === f.max) return num(f.median, digits);
  return `${num(f.median, digits)} (${num(f.min, digits)}–${num(f.max, digits)})`;
}

function pctCell(f: Figure | undefined): string {
  if (!f || !Number.isFinite(f.median)) return '–';
  const p = (v: number): string => `${(v * 100).toFixed(0)} %`;
  return f.runs.length < 2 ? p(f.median) : `${p(f.median)} (${p(f.min)}–${p(f.max)})`;
}

function table(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export function formatTable(p: Plan, machine: Record<string, unknown>, fig: Fig, targets: Target[], notes: string[]): string {
  const out: string[] = [];
  out.push(
    `mqtt-iot-listener bench, ${p.mode} mode: ${p.runs} round(s), median (min–max). ${machine['cores']} cores (${machine['cpu']}), ` +
      `Node ${machine['node']}, SQLite ${machine['sqlite']} (better-sqlite3), mosquitto ${machine['mosquitto']}. ` +
      `${p.throughputCount} messages per throughput run, ${p.sensors} sensors, ${p.publishers} publisher processes, all on 127.0.0.1.`,
  );

  const throughput: string[][] = [];
  for (const qos of [0, 1] as const) {
    if (!fig(`raw.qos${qos}.msgsPerSec`)) continue;
    throughput.push([`raw MQTT.js subscriber, QoS ${qos}`, cell(fig(`raw.qos${qos}.msgsPerSec`)), '100 %', cell(fig(`raw.qos${qos}.cpuPer100k`), 1), cell(fig(`raw.qos${qos}.peakRssMB`)), '', '', pctCell(fig(`raw.qos${qos}.machineBusy`))]);
  }
  for (const durable of [false, true]) {
    for (const qos of [0, 1, 2] as const) {
      const k = `ours.qos${qos}.${durable ? 'durable' : 'normal'}`;
      if (!fig(`${k}.readingsPerSec`)) continue;
      const vsRaw = qos < 2 && !durable ? pctCell(fig(`ratio.qos${qos}.oursOverRaw`)) : '';
      throughput.push([
        `listener, QoS ${qos}, ${durable ? '`--durable` (FULL)' : 'NORMAL'}${qos === 2 && p.qos2Count < p.throughputCount ? ` (${p.qos2Count} messages)` : ''}`,
        cell(fig(`${k}.readingsPerSec`)),
        vsRaw,
        cell(fig(`${k}.cpuPer100k`), 1),
        cell(fig(`${k}.peakRssMB`)),
        cell(fig(`${k}.finalRssMB`)),
        cell(fig(`${k}.rowsPerCommit`)),
        pctCell(fig(`${k}.machineBusy`)),
      ]);
    }
  }
  for (const qos of [0, 1] as const) {
    if (!fig(`aedes.raw.qos${qos}.msgsPerSec`)) continue;
    throughput.push([`aedes broker: raw MQTT.js subscriber, QoS ${qos}`, cell(fig(`aedes.raw.qos${qos}.msgsPerSec`)), '100 %', '', '', '', '', '']);
    throughput.push([
      `aedes broker: listener, QoS ${qos}, NORMAL`,
      cell(fig(`aedes.ours.qos${qos}.readingsPerSec`)),
      pctCell(fig(`aedes.ratio.qos${qos}.oursOverRaw`)),
      '',
      '',
      '',
      '',
      '',
    ]);
  }
  for (const format of ['ecc', 'z2m'] as const) {
    if (!fig(`decode.${format}.readingsPerSec`)) continue;
    throughput.push([
      `listener, QoS 1, NORMAL, ${format === 'ecc' ? 'ECC payloads (decode bench)' : 'Zigbee2MQTT JSON on zigbee2mqtt/# (auto)'}`,
      cell(fig(`decode.${format}.readingsPerSec`)),
      format === 'z2m' ? `${pctCell(fig('ratio.z2mOverEcc'))} of ECC` : '',
      cell(fig(`decode.${format}.cpuPer100k`), 1),
      '',
      '',
      '',
      '',
    ]);
  }
  throughput.push(...postgresRows(fig, cell, pctCell));
  if (fig('original.storedPerSec')) {
    throughput.push(['original design (QoS 0, open/insert/commit/close per message)', cell(fig('original.storedPerSec')), '', '', '', '', '', '']);
  }
  out.push(
    '',
    table(['ingest (first publish → last row committed)', 'msg/s', 'of raw', 'CPU s / 100k', 'peak RSS MB', 'final RSS MB', 'rows / commit', 'machine CPU busy'], throughput),
  );

  const other: string[][] = [];
  const add = (label: string, f: Figure | undefined, unit: string, digits = 0): void => {
    if (f) other.push([label, cell(f, digits), unit]);
  };
  add('better-sqlite3, 1000 rows/transaction, WAL, synchronous=NORMAL', fig('sqlite.NORMAL.rowsPerSec'), 'rows/s');
  add('better-sqlite3, 1000 rows/transaction, WAL, synchronous=FULL', fig('sqlite.FULL.rowsPerSec'), 'rows/s');
  add('  CPU per row (NORMAL): the SQLite floor of a stored reading', fig('sqlite.NORMAL.cpuUsPerRow'), 'µs', 1);
  add('QoS 0 floor: raw MQTT.js receive + raw SQLite insert, per reading', fig('floor.qos0.usPerReading'), 'µs', 1);
  add('  listener QoS 0 CPU per stored reading / floor', fig('ratio.qos0.cpuOverFloor'), '×', 2);
  for (const rate of p.latencyRates) {
    const k = `latency.${rate}`;
    if (!fig(`${k}.commitP99`)) continue;
    other.push([
      `latency publish → commit at ${rate} msg/s, QoS 1: p50 / p95 / p99 / max`,
      [`${k}.commitP50`, `${k}.commitP95`, `${k}.commitP99`, `${k}.commitMax`].map((x) => cell(fig(x), 1)).join(' / '),
      'ms',
    ]);
    add(`  publish → receive (recordWrittenUTC) p99 at ${rate} msg/s`, fig(`${k}.receiveP99`), 'ms', 1);
    add(`  CPU at ${rate} msg/s`, fig(`${k}.cpuPer100k`), 's / 100k', 1);
  }
  add('idle CPU (connected, no traffic)', fig('idle.cpuPercent'), '% of one core', 2);
  if (fig('original.storedPerSec')) {
    other.push([
      `original design at ${p.original.rate} msg/s for ${p.original.count} messages (mosquitto default limits): lost`,
      `${cell(fig('original.lost'))} (${cell(fig('original.lostPercent'), 0)} %)`,
      'messages',
    ]);
    add('  listener QoS 0, same load and broker: lost', fig('outpaced.qos0.lost'), 'messages');
    add('  listener QoS 1, same load and broker: lost (broker drops past its queue)', fig('outpaced.qos1.lost'), 'messages');
    add('  listener QoS 1, same load, max_inflight_messages 1000: lost', fig('outpaced.qos1bench.lost'), 'messages');
    other.push(['listener QoS 0 / original design', `${cell(fig('ratio.qos0.oursOverOriginal'), 0)}×`, '']);
    other.push(['listener QoS 1 / original design', `${cell(fig('ratio.qos1.oursOverOriginal'), 0)}×`, '']);
  }
  if (fig('backlog.drainPerSec')) {
    add(`backlog: ${p.backlogCount} QoS 1 readings queued while stopped, drained at`, fig('backlog.drainPerSec'), 'readings/s');
    add('  drain time (process start → last row committed)', fig('backlog.seconds'), 's', 1);
    other.push(['  vs live QoS 1 rate', pctCell(fig('ratio.backlogOverLive')), '']);
    other.push(['  lost / stored twice', `${cell(fig('backlog.lost'))} / ${cell(fig('backlog.duplicates'))}`, 'readings']);
    add('  peak RSS while draining', fig('backlog.peakRssMB'), 'MB');
  }
  if (fig('growth.big.readingsPerSec')) {
    const rows = num(p.big.rows, 0);
    add(`growth: QoS 1, ${p.big.sensors} sensors, into an empty database`, fig('growth.empty.readingsPerSec'), 'readings/s');
    add(`  into a database of ${rows} readings`, fig('growth.big.readingsPerSec'), 'readings/s');
    other.push(['  big vs empty', pctCell(fig('ratio.growth.bigOverEmpty')), '']);
    other.push(['  CPU empty / big', `${cell(fig('growth.empty.cpuPer100k'), 1)} / ${cell(fig('growth.big.cpuPer100k'), 1)}`, 's / 100k']);
    other.push(['  rows per commit empty / big', `${cell(fig('growth.empty.rowsPerCommit'))} / ${cell(fig('growth.big.rowsPerCommit'))}`, '']);
    add('  generating the big database (cached afterwards)', fig('bigdb.generatedSeconds'), 's');
  }
  if (fig('reads.readingsPerSec')) {
    add(`reads beside writes: QoS 1 stream into ${num(p.big.rows, 0)} readings while reading`, fig('reads.readingsPerSec'), 'readings/s');
    other.push(['  vs the same stream without reads', pctCell(fig('ratio.reads.withOverWithout')), '']);
    for (const probe of READ_PROBES) {
      const k = `reads.probe.${probe.name}`;
      if (!fig(`${k}.p95`)) continue;
      other.push([
        `  ${probe.name}: p50 / p95 / max (reads per run)`,
        `${[`${k}.p50`, `${k}.p95`, `${k}.max`].map((x) => cell(fig(x), 1)).join(' / ')} (${cell(fig(`${k}.count`))})`,
        'ms',
      ]);
    }
  }
  for (const s of p.scaling.sensors) {
    const k = `scaling.${s}`;
    if (!fig(`${k}.readingsPerSec`)) continue;
    other.push([
      `scaling: ${s} sensor(s), QoS 1: readings/s · peak RSS · readings table size`,
      `${cell(fig(`${k}.readingsPerSec`))} · ${cell(fig(`${k}.peakRssMB`))} MB · ${cell(fig(`${k}.mbPerMillion`))} MB per 10⁶`,
      '',
    ]);
  }
  for (const [key, label] of [
    ['million', LAUNCHER_NODE_FLAGS.length > 0 ? `as launched (node ${LAUNCHER_NODE_FLAGS.join(' ')})` : 'started as `node bin/mqtt-iot-listener.js`, no node flags'],
    ['millionSmall', `node ${[...LAUNCHER_NODE_FLAGS, ...p.smallMachineNodeArgs].join(' ')}`],
  ] as const) {
    if (!fig(`${key}.peakRssMB`)) continue;
    add(`${p.millionCount} readings, QoS 1, ${label}: rate`, fig(`${key}.readingsPerSec`), 'readings/s');
    other.push([
      '  RSS at 20 % / 60 % / end · peak',
      `${cell(fig(`${key}.rssAt20`))} / ${cell(fig(`${key}.rssAt60`))} / ${cell(fig(`${key}.rssAt100`))} · ${cell(fig(`${key}.peakRssMB`))}`,
      'MB',
    ]);
    add('  RSS growth: max of last quarter − max of second quarter', fig(`${key}.rssGrowthMB`), 'MB', 1);
    add('  database file per million readings (incl. delivery ledger)', fig(`${key}.fileMBPerMillion`), 'MB');
    add('  readings tables + indexes per million readings', fig(`${key}.readingMBPerMillion`), 'MB');
  }
  if (fig('page.usableMs.1y')) {
    add(`web page, ${p.page.sensors} sensors × ${p.page.days} d (${cell(fig('page.readings'))} readings): usable, default view`, fig('page.usableMs.24h'), 'ms');
    add('  usable, 1 y chart of one sensor', fig('page.usableMs.1y'), 'ms');
    add('    API time for /api/sensors and the readings (summed; they overlap)', fig('page.apiMs.1y'), 'ms');
    add('  1 y view: readings response', fig('page.readingsKB.1y'), 'KB');
    add('  1 y view: whole page as sent (HTML, JS, CSS, uPlot gzipped; API JSON)', fig('page.pageKB.1y'), 'KB');
  }
  out.push('', table(['measure', 'median (min–max)', 'unit'], other));

  out.push(
    '',
    table(
      ['target', 'goal', 'this run', 'met'],
      targets.map((t) => [t.name, t.goal, t.value, t.met === null ? '–' : t.met ? 'yes' : '**no**']),
    ),
  );
  for (const n of notes) out.push(`note: ${n}`);
  return out.join('\n');
}
