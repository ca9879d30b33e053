// Receive timestamps as the original wrote them: UTC text `YYYY-MM-DD HH:MM:SS.ffffff`.

/** Microseconds since the epoch from a wall clock in milliseconds (fractional ms allowed). */
export function nowMicros(nowMs: () => number = () => performance.timeOrigin + performance.now()): number {
  return Math.floor(nowMs() * 1000);
}

// Readings arrive thousands per second within the same second: format the date part once per second.
let cachedSecond = Number.NaN;
let cachedPrefix = '';

export function formatMicrosUTC(micros: number): string {
  const second = Math.floor(micros / 1_000_000);
  if (second !== cachedSecond) {
    const iso = new Date(second * 1000).toISOString(); // 2026-11-23T10:11:12.000Z
    cachedPrefix = `${iso.slice(0, 10)} ${iso.slice(11, 19)}.`;
    cachedSecond = second;
  }
  return cachedPrefix + String(micros - second * 1_000_000).padStart(6, '0');
}

/** Inverse of formatMicrosUTC; NaN for text that is not in that form. */
export function parseMicrosUTC(text: string): number {
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?$/.exec(text);
  if (!m) return Number.NaN;
  const base = Date.parse(`${m[1]}T${m[2]}Z`);
  return base * 1000 + Number((m[3] ?? '0').padEnd(6, '0'));
}
