// --from / --to of `export`: an ISO 8601 time (a time without a zone is UTC, as every time in the
// database is), or a duration ago ("24h", "7d", "90m"). Turned into the database's own text form
// (`YYYY-MM-DD HH:MM:SS.ffffff`, UTC), which sorts like the times it names, so the range is an
// index range on (sensorName, recordWrittenUTC).
import { InvalidArgumentError } from 'commander';
import { parseDuration } from '../numbers.js';
import { formatMicrosUTC } from '../store/time.js';

const ISO_RE = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?))?(Z|[+-]\d{2}:?\d{2})?$/i;

/** Milliseconds since the epoch for an ISO time or "<duration> ago"; undefined if it is neither. */
export function parseTimeArg(text: string, nowMs: number): number | undefined {
  const t = text.trim();
  if (/^[0-9.]+\s*(ms|s|m|min|h|d)$/.test(t)) {
    const ms = parseDuration(t);
    return ms === undefined ? undefined : nowMs - ms;
  }
  const m = ISO_RE.exec(t);
  if (!m) return undefined;
  const zone = m[3] ?? 'Z';
  const ms = Date.parse(`${m[1]}T${m[2] ?? '00:00:00'}${zone.toUpperCase()}`);
  return Number.isNaN(ms) ? undefined : ms;
}

/** A commander argument parser for --from/--to: the database's text form of the time. */
export function timeOption(flag: string, now: () => number = Date.now) {
  return (value: string): string => {
    const ms = parseTimeArg(value, now());
    if (ms === undefined) {
      throw new InvalidArgumentError(`${flag} must be an ISO 8601 time (2026-11-23, 2026-11-23T14:00Z) or a duration ago (24h, 7d), got ${JSON.stringify(value)}`);
    }
    return formatMicrosUTC(Math.round(ms * 1000));
  };
}
