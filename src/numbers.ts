// Strict number and duration parsing shared by flags and decoders: "1e6" and "0.5" are numbers,
// "", "0x10", "12abc", "NaN" and "Infinity" are not.
const DECIMAL_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

export function parseDecimal(text: string): number | undefined {
  const t = text.trim();
  if (!DECIMAL_RE.test(t)) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/** "2s", "500ms", "1.5m", "2h"; a bare number is in `defaultUnit`. Returns milliseconds. */
export function parseDuration(text: string, defaultUnit: keyof typeof DURATION_UNITS = 's'): number | undefined {
  const m = /^\s*([0-9.eE+-]+)\s*(ms|s|m|min|h|d)?\s*$/.exec(text);
  if (!m) return undefined;
  const n = parseDecimal(m[1]!);
  if (n === undefined) return undefined;
  return n * DURATION_UNITS[m[2] ?? defaultUnit]!;
}
