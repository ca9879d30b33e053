// The sensor API: GET /api/sensors (every sensor ever seen, or known by its availability topic),
// /api/sensors/{name} (404 "never seen" for an unknown one) and /api/sensors/{name}/readings
// (time range, limit capped at 100 000, or min/max/mean per bucket with maxPoints, for charts).
// The sensor list and each sensor's last reading come from LastReadings (memory, seeded from the
// database); readings from the service's reader (SensorReadSource: SQLite or PostgreSQL).
// Names arrive percent-encoded and only ever reach SQL as bound parameters.
import type { DeviceAvailability } from '../availability/availability-tracker.js';
import { formatMicrosUTC } from '../store/time.js';
import { BUCKET_FIELDS, type BucketField, type BucketRow, type ReadingRow } from './sensor-reader.js';
import type { SensorReadSource } from './read-source.js';
import type { LastReadings } from './last-readings.js';
import { celsius, isoFromStored, sensorView, type SensorView } from './sensor-view.js';
import { badParameter, HttpError, sendJson, type Route } from './routes.js';

export const MAX_LIMIT = 100_000;
export const MAX_POINTS = 10_000;

export interface SensorApiDeps {
  reader: SensorReadSource;
  lastReadings: LastReadings;
  /** Current availability per device (committed state), if availability topics are tracked. */
  availability?: (device: string) => DeviceAvailability | undefined;
  availabilityDevices?: () => Iterable<string>;
  staleMs: number;
  now?: () => number;
}

const TIME_RE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/** An ISO 8601 time (a zone-less one is UTC) → epoch ms, or a 400 naming the parameter. */
export function parseTime(name: string, text: string): number {
  const m = TIME_RE.exec(text.trim());
  const iso = text.trim().replace(' ', 'T');
  const ms = m ? Date.parse(m[1] ? iso : iso.length === 10 ? iso : `${iso}Z`) : Number.NaN;
  if (Number.isNaN(ms)) throw badParameter(name, `${JSON.stringify(text.slice(0, 40))} is not an ISO 8601 time like 2026-12-01T00:00:00Z`);
  return ms;
}

export function parseCount(name: string, text: string, max?: number): number {
  if (!/^\d{1,15}$/.test(text.trim()) || Number(text) < 1) throw badParameter(name, `${JSON.stringify(text.slice(0, 40))} is not a whole number of at least 1`);
  const n = Number(text);
  if (max !== undefined && n > max) throw badParameter(name, `at most ${max}`);
  return n;
}

function round(v: number | null, digits = 3): number | null {
  if (v === null || v === undefined) return null;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export function sensorApiRoutes(deps: SensorApiDeps): Route[] {
  const now = deps.now ?? Date.now;
  const view = (name: string, nowMs: number): SensorView => sensorView(name, deps.lastReadings.get(name), deps.availability?.(name), nowMs, deps.staleMs);
  const known = (name: string): SensorView => {
    const v = view(name, now());
    if (v.last === null && v.availability === null) throw new HttpError(404, `sensor ${JSON.stringify(name)} was never seen`, { name, status: 'never seen' });
    return v;
  };
  return [
    {
      method: 'GET',
      path: '/api/sensors',
      handle: ({ res }) => {
        const nowMs = now();
        const names = new Set(deps.lastReadings.names());
        // Devices known only from their availability topic are listed too.
        for (const d of deps.availabilityDevices?.() ?? []) names.add(d);
        sendJson(res, 200, [...names].sort().map((n) => view(n, nowMs)));
      },
    },
    {
      method: 'GET',
      path: '/api/sensors/:name',
      handle: ({ res, params }) => sendJson(res, 200, known(params['name']!)),
    },
    {
      method: 'GET',
      path: '/api/sensors/:name/readings',
      handle: async ({ res, params, url }) => {
        const name = params['name']!;
        const q = url.searchParams;
        const fromMs = q.has('from') ? parseTime('from', q.get('from')!) : undefined;
        const toMs = q.has('to') ? parseTime('to', q.get('to')!) : undefined;
        if (fromMs !== undefined && toMs !== undefined && fromMs > toMs) throw badParameter('from', 'is later than to');
        const asked = q.has('limit') ? parseCount('limit', q.get('limit')!) : undefined;
        const maxPoints = q.has('maxPoints') ? parseCount('maxPoints', q.get('maxPoints')!, MAX_POINTS) : undefined;
        const fields = q.has('fields') ? parseFields(q.get('fields')!, maxPoints) : BUCKET_FIELDS;
        known(name);
        const from = fromMs === undefined ? '0000' : formatMicrosUTC(fromMs * 1000);
        const to = toMs === undefined ? '9999' : formatMicrosUTC(toMs * 1000 + 999);
        const base = { name, from: fromMs === undefined ? null : new Date(fromMs).toISOString(), to: toMs === undefined ? null : new Date(toMs).toISOString() };
        if (maxPoints !== undefined) {
          sendJson(res, 200, { ...base, ...(await bucketed(deps.reader, name, from, to, fromMs, toMs, maxPoints, fields)) });
          return;
        }
        const limit = Math.min(asked ?? MAX_LIMIT, MAX_LIMIT);
        const head = { ...base, limit, ...(asked !== undefined && asked > MAX_LIMIT ? { limitCapped: true, limitAsked: asked } : { limitCapped: false }) };
        // Streamed in chunks: up to 100 000 readings never sit in the (capped) heap as one string.
        // The head goes out with the first chunk: a database failing before it is still a clean 500.
        let chunk = `${JSON.stringify(head).slice(0, -1)},"readings":[`;
        let count = 0;
        const flush = (): void => {
          if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
          res.write(chunk);
          chunk = '';
        };
        // Without `from`, a limit means "the latest N" (still returned oldest first).
        const truncated = await deps.reader.eachReading(name, from, to, limit, fromMs === undefined, (row) => {
          chunk += (count++ === 0 ? '' : ',') + JSON.stringify(readingJson(row));
          if (chunk.length >= 64 * 1024) flush();
        });
        if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
        res.end(`${chunk}],"truncated":${truncated},"count":${count}}`);
      },
    },
  ];
}

function readingJson(r: ReadingRow): Record<string, unknown> {
  return {
    time: isoFromStored(r.recordWrittenUTC),
    temperatureF: r.temperatureF,
    temperatureC: celsius(r.temperatureF),
    relHumidityPercent: r.relHumidityPercent,
    dewPointF: r.dewPointF,
    battVoltage: r.battVoltage,
    battPercent: r.battPercent,
    apRSSI: r.apRSSI,
  };
}

/**
 * `fields=temperatureF,relHumidityPercent` (with maxPoints): only these columns' min/max/mean.
 * A chart of two quantities then costs the database a third of the work and the wire a third of
 * the bytes (issue 12: the web page).
 */
function parseFields(text: string, maxPoints: number | undefined): readonly BucketField[] {
  if (maxPoints === undefined) throw badParameter('fields', 'applies to buckets only: give maxPoints too');
  const names = text.split(',').map((f) => f.trim());
  for (const f of names) {
    if (!(BUCKET_FIELDS as readonly string[]).includes(f)) throw badParameter('fields', `${JSON.stringify(f.slice(0, 40))} is not one of ${BUCKET_FIELDS.join(', ')}`);
  }
  return BUCKET_FIELDS.filter((f) => names.includes(f));
}

async function bucketed(
  reader: SensorReadSource,
  name: string,
  from: string,
  to: string,
  fromMs: number | undefined,
  toMs: number | undefined,
  maxPoints: number,
  fields: readonly BucketField[],
): Promise<Record<string, unknown>> {
  const span = await reader.range(name, from, to);
  if (span.n === 0 || span.first === null || span.last === null) return { maxPoints, bucketSeconds: null, count: 0, buckets: [] };
  const start = Math.floor((fromMs ?? Date.parse(isoFromStored(span.first)!)) / 1000);
  const end = Math.floor((toMs ?? Date.parse(isoFromStored(span.last)!)) / 1000);
  const width = Math.max(1, Math.ceil((end - start + 1) / maxPoints));
  const rows = await reader.buckets(name, from, to, start, width, fields);
  return { maxPoints, bucketSeconds: width, count: span.n, buckets: rows.map((b) => bucketJson(b, start, width, fields)) };
}

function bucketJson(b: BucketRow, start: number, width: number, fields: readonly BucketField[]): Record<string, unknown> {
  const out: Record<string, unknown> = { startUTC: new Date((start + b.bucket! * width) * 1000).toISOString(), count: b.count };
  for (const f of fields) {
    out[f] = { min: b[`${f}_min`] ?? null, max: b[`${f}_max`] ?? null, mean: round(b[`${f}_mean`] ?? null) };
    if (f === 'temperatureF') {
      out['temperatureC'] = { min: celsius(b[`${f}_min`] ?? null), max: celsius(b[`${f}_max`] ?? null), mean: celsius(b[`${f}_mean`] ?? null) };
    }
  }
  return out;
}
