// °F/°C and the formats of the list: the database stores °F (as the sensors send it); the page
// shows either.

export type TempUnit = 'F' | 'C';

export function fToC(f: number): number {
  return ((f - 32) * 5) / 9;
}

/** A temperature given in °F, in the chosen unit. */
export function toUnit(f: number, unit: TempUnit): number {
  return unit === 'C' ? fToC(f) : f;
}

export function formatTemp(f: number | null | undefined, unit: TempUnit): string {
  return f === null || f === undefined || !Number.isFinite(f) ? '–' : `${toUnit(f, unit).toFixed(1)} °${unit}`;
}

export function formatNumber(v: number | null | undefined, digits: number, suffix: string): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : `${v.toFixed(digits)}${suffix}`;
}

/** "42 s", "5 min", "3 h 10 min", "12 d": the age of a last reading. */
export function formatAge(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86_400) {
    const m = Math.floor((s % 3600) / 60);
    return `${Math.floor(s / 3600)} h${m ? ` ${m} min` : ''}`;
  }
  return `${Math.floor(s / 86_400)} d`;
}
