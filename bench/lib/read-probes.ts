// The reads measured beside a full-speed write stream (`reads` section of npm run bench): each probe
// is what a user's read costs, timed end to end in a process of its own (bench/children/reader.ts).
// A new read path is one more line here. The HTTP API's reads are measured through the reader its
// server uses (SensorReader, one kept open as the server keeps it), without the HTTP layer.
import { SensorReader } from '../../src/http/sensor-reader.js';
import { readStatus } from '../../src/status.js';
import { formatMicrosUTC } from '../../src/store/time.js';
import { sensorName } from './payload.js';

export interface ReadProbe {
  name: string;
  /** Target for its p95 latency beside the stream, ms (issue 17: status 100 ms, HTTP API 200 ms). */
  goalMs: number;
  /** One read of the listener's live database; may be async (an HTTP request). */
  run(dbFile: string): unknown;
}

const readers = new Map<string, SensorReader>();

function httpReader(dbFile: string): SensorReader {
  let r = readers.get(dbFile);
  if (!r) {
    r = new SensorReader(dbFile);
    r.open();
    readers.set(dbFile, r);
  }
  return r;
}

const YEAR_MS = 365 * 86_400_000;

/** GET /api/sensors/<first sensor>/readings over the last year, downsampled to ~1000 points (as api.ts). */
function yearChart(dbFile: string): unknown {
  const r = httpReader(dbFile);
  const toMs = Date.now();
  const fromMs = toMs - YEAR_MS;
  const from = formatMicrosUTC(fromMs * 1000);
  const to = formatMicrosUTC(toMs * 1000 + 999);
  r.range(sensorName(0), from, to);
  return r.buckets(sensorName(0), from, to, Math.floor(fromMs / 1000), Math.ceil(YEAR_MS / 1000 / 1000));
}

export const READ_PROBES: readonly ReadProbe[] = [
  { name: 'status', goalMs: 100, run: (dbFile) => readStatus(dbFile) },
  { name: 'HTTP sensor list', goalMs: 200, run: (dbFile) => httpReader(dbFile).everyLastReading() },
  { name: 'HTTP 1-year chart', goalMs: 200, run: yearChart },
];

export function probeByName(name: string): ReadProbe {
  const p = READ_PROBES.find((x) => x.name === name);
  if (!p) throw new Error(`unknown read probe ${name} (known: ${READ_PROBES.map((x) => x.name).join(', ')})`);
  return p;
}
