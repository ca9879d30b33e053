// The listener's JSON API (the status service): the sensor list and one sensor's readings,
// fetched from the page's own origin (so the same login applies), turned into the columnar
// arrays the charts and the CSV use.

// The browser's copy of the API's shapes (src/http/sensor-view.ts): the page is compiled on its
// own (DOM, no Node), and the browser tests compare what it shows with what the API answers.
export type SensorStatus = 'online' | 'stale' | 'offline' | 'never seen';

export interface LastValues {
  temperatureF: number | null;
  temperatureC: number | null;
  relHumidityPercent: number | null;
  dewPointF: number | null;
  battVoltage: number | null;
  battPercent: number | null;
  apRSSI: number | null;
}

export interface Sensor {
  name: string;
  location: string | null;
  status: SensorStatus;
  lastSeenUTC: string | null;
  ageSeconds: number | null;
  last: LastValues | null;
  availability: { state: string; sinceUTC: string; topic: string } | null;
}

/** One sensor's readings over a range, in time order; min/max equal the mean for raw readings. */
export interface Series {
  name: string;
  /** Unix seconds (uPlot's x unit). */
  t: number[];
  temperatureF: Band;
  relHumidityPercent: Band;
  /** True when the server averaged readings into buckets (long ranges). */
  downsampled: boolean;
}

export interface Band {
  mean: Array<number | null>;
  min: Array<number | null>;
  max: Array<number | null>;
}

/** A full reading, for the CSV download. */
export type Reading = LastValues & { time: string };

export class ApiError extends Error {}

async function getJson(path: string, signal?: AbortSignal): Promise<unknown> {
  const res = await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store', ...(signal ? { signal } : {}) });
  if (!res.ok) {
    let reason = `${res.status} ${res.statusText}`;
    try {
      const body = (await res.json()) as { error?: unknown };
      if (typeof body.error === 'string') reason = `${res.status}: ${body.error}`;
    } catch {
      // not JSON: the status line says enough
    }
    throw new ApiError(`${path.split('?')[0]}: ${reason}`);
  }
  return res.json();
}

export async function fetchSensors(signal?: AbortSignal): Promise<Sensor[]> {
  const body = await getJson('/api/sensors', signal);
  if (!Array.isArray(body)) throw new ApiError('/api/sensors: not a list');
  return body as Sensor[];
}

function readingsPath(name: string, fromMs: number, toMs: number, extra: Record<string, string>): string {
  const q = new URLSearchParams({ from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), ...extra });
  return `/api/sensors/${encodeURIComponent(name)}/readings?${q.toString()}`;
}

/** The two columns the charts draw: the server aggregates (and sends) only these. */
const CHART_FIELDS = 'temperatureF,relHumidityPercent';

/** Readings for a chart: at most maxPoints buckets (min/max/mean), so a year stays small. */
export async function fetchSeries(name: string, fromMs: number, toMs: number, maxPoints: number, signal?: AbortSignal): Promise<Series> {
  const body = await getJson(readingsPath(name, fromMs, toMs, { maxPoints: String(maxPoints), fields: CHART_FIELDS }), signal);
  return toSeries(name, body);
}

/** The readings of the range, up to the API's cap of 100 000 (`truncated` says there were more), for the CSV. */
export async function fetchReadings(name: string, fromMs: number, toMs: number): Promise<{ readings: Reading[]; truncated: boolean }> {
  const body = (await getJson(readingsPath(name, fromMs, toMs, { limit: '100000' }))) as { readings?: Reading[]; truncated?: boolean };
  return { readings: Array.isArray(body.readings) ? body.readings : [], truncated: body.truncated === true };
}

type Point = Record<string, unknown>;

function pushBand(band: Band, v: unknown): void {
  if (typeof v === 'number') {
    band.mean.push(v);
    band.min.push(v);
    band.max.push(v);
  } else if (v && typeof v === 'object') {
    const b = v as { mean?: unknown; min?: unknown; max?: unknown };
    band.mean.push(typeof b.mean === 'number' ? b.mean : null);
    band.min.push(typeof b.min === 'number' ? b.min : null);
    band.max.push(typeof b.max === 'number' ? b.max : null);
  } else {
    band.mean.push(null);
    band.min.push(null);
    band.max.push(null);
  }
}

const emptyBand = (): Band => ({ mean: [], min: [], max: [] });

/**
 * Either answer of the readings API as columns: raw readings ({time, temperatureF: 71.2, …}) or
 * buckets ({startUTC, temperatureF: {min, max, mean}, …}, bucketSeconds wide; drawn at their middle).
 */
export function toSeries(name: string, body: unknown): Series {
  const b = (body ?? {}) as { readings?: unknown; buckets?: unknown; bucketSeconds?: unknown };
  const bucketed = Array.isArray(b.buckets);
  const points = (bucketed ? b.buckets : Array.isArray(b.readings) ? b.readings : []) as Point[];
  const half = bucketed && typeof b.bucketSeconds === 'number' ? b.bucketSeconds / 2 : 0;
  const s: Series = { name, t: [], temperatureF: emptyBand(), relHumidityPercent: emptyBand(), downsampled: bucketed };
  for (const p of points) {
    const iso = bucketed ? p['startUTC'] : p['time'];
    const t = typeof iso === 'string' ? Date.parse(iso) / 1000 + half : Number.NaN;
    if (!Number.isFinite(t)) continue;
    s.t.push(t);
    pushBand(s.temperatureF, p['temperatureF']);
    pushBand(s.relHumidityPercent, p['relHumidityPercent']);
  }
  return s;
}
