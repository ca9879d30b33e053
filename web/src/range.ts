// The time range the charts show: the last 6 h / 24 h / 7 d / 30 d / 1 y, or a custom from–to,
// kept in the address (#range=7d, #from=…&to=…) so a view can be bookmarked and reloaded.

export const PRESETS = [
  { key: '6h', label: '6 h', ms: 6 * 3600_000 },
  { key: '24h', label: '24 h', ms: 24 * 3600_000 },
  { key: '7d', label: '7 d', ms: 7 * 86_400_000 },
  { key: '30d', label: '30 d', ms: 30 * 86_400_000 },
  { key: '1y', label: '1 y', ms: 365 * 86_400_000 },
] as const;

export type PresetKey = (typeof PRESETS)[number]['key'];

export type Range = { kind: 'preset'; key: PresetKey } | { kind: 'custom'; fromMs: number; toMs: number };

export const DEFAULT_RANGE: Range = { kind: 'preset', key: '24h' };

/** The range as absolute times; a preset ends now. */
export function resolveRange(r: Range, nowMs: number): { fromMs: number; toMs: number } {
  if (r.kind === 'custom') return { fromMs: r.fromMs, toMs: r.toMs };
  const preset = PRESETS.find((p) => p.key === r.key) ?? PRESETS[1];
  return { fromMs: nowMs - preset.ms, toMs: nowMs };
}

export function isPresetKey(v: string | null): v is PresetKey {
  return PRESETS.some((p) => p.key === v);
}

/** What the address says: range and selected sensors (null: not given). */
export interface ViewState {
  range: Range | null;
  sensors: string[] | null;
}

export function readHash(hash: string): ViewState {
  const q = new URLSearchParams(hash.replace(/^#/, ''));
  let range: Range | null = null;
  const key = q.get('range');
  const from = Date.parse(q.get('from') ?? '');
  const to = Date.parse(q.get('to') ?? '');
  if (isPresetKey(key)) range = { kind: 'preset', key };
  else if (Number.isFinite(from) && Number.isFinite(to) && from < to) range = { kind: 'custom', fromMs: from, toMs: to };
  const sensors = q.has('sensor') ? q.getAll('sensor') : null;
  return { range, sensors };
}

export function writeHash(range: Range, sensors: readonly string[]): string {
  const q = new URLSearchParams();
  if (range.kind === 'preset') q.set('range', range.key);
  else {
    q.set('from', new Date(range.fromMs).toISOString());
    q.set('to', new Date(range.toMs).toISOString());
  }
  for (const s of sensors) q.append('sensor', s);
  return `#${q.toString()}`;
}

/** A datetime-local input's value (local time, minutes) for a time, and back. */
export function toLocalInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

export function fromLocalInput(value: string): number {
  return value ? new Date(value).getTime() : Number.NaN;
}
