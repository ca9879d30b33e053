// What --log-level debug (one log line per message) costs against info: the throughput scenario
// at QoS 1 (unpaced, 100 sensors, 2 publishers, mosquitto with the bench's limits), info and debug
// interleaved round by round so a busy neighbour hits both alike. Prints readings/s, CPU seconds
// per 100 000 readings and peak RSS, each the median over the rounds.
//   npm run build && node dist/bench/debug-cost.js [--count 100000] [--runs 3]
import { Command } from 'commander';
import { BENCH_LIMITS } from './lib/mosquitto.js';
import { percentile } from './lib/stats.js';
import { oursThroughput, type OursResult } from './scenarios.js';

const program = new Command('debug-cost')
  .option('--count <n>', 'messages per run', (v) => Number(v), 100_000)
  .option('--runs <n>', 'rounds', (v) => Number(v), 3)
  .parse();
const { count, runs } = program.opts<{ count: number; runs: number }>();
const results: Record<'info' | 'debug', OursResult[]> = { info: [], debug: [] };
for (let i = 1; i <= runs; i++) {
  for (const logLevel of ['info', 'debug'] as const) {
    const r = await oursThroughput({ qos: 1, durable: false, load: { count, sensors: 100, publishers: 2, rate: 0 }, limits: BENCH_LIMITS, logLevel });
    results[logLevel].push(r);
    process.stderr.write(`round ${i} ${logLevel}: ${Math.round(r.readingsPerSec)} readings/s, ${r.cpuSecPer100k.toFixed(2)} CPU s/100k, peak ${r.peakRssMB.toFixed(0)} MB\n`);
  }
}
for (const level of ['info', 'debug'] as const) {
  const m = (f: (r: OursResult) => number) => percentile(results[level].map(f), 50);
  process.stdout.write(
    `${level.padEnd(5)}  ${Math.round(m((r) => r.readingsPerSec))} readings/s  ${m((r) => r.cpuSecPer100k).toFixed(2)} CPU s per 100k  peak RSS ${m((r) => r.peakRssMB).toFixed(0)} MB\n`,
  );
}
