// The reads measured beside a full-speed write stream (`reads` section of npm run bench): each probe
// is what a user's read costs, timed end to end in a process of its own (bench/children/reader.ts).
// A new read path is one more line here, e.g. the HTTP API's sensor list and 1-year chart query:
//   { name: 'GET /api/sensors', goalMs: 200, run: (db) => …, },
import { readStatus } from '../../src/status.js';

export interface ReadProbe {
  name: string;
  /** Target for its p95 latency beside the stream, ms (issue 17: status 100 ms, HTTP API 200 ms). */
  goalMs: number;
  /** One read of the listener's live database; may be async (an HTTP request). */
  run(dbFile: string): unknown;
}

export const READ_PROBES: readonly ReadProbe[] = [
  { name: 'status', goalMs: 100, run: (dbFile) => readStatus(dbFile) },
];

export function probeByName(name: string): ReadProbe {
  const p = READ_PROBES.find((x) => x.name === name);
  if (!p) throw new Error(`unknown read probe ${name} (known: ${READ_PROBES.map((x) => x.name).join(', ')})`);
  return p;
}
