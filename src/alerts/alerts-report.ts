// `alerts` (and the HTTP service's /api/alerts): the sensors' current problems, the mutes and when
// they end, and what waits for the mail server — from the state file alone, so it works without a
// running listener. alertsReport() is pure: the HTTP handler passes a running listener's
// SensorAlerts.snapshot() or readAlertStateFile() and gets the very same JSON.
import { localTime } from './alert-text.js';
import type { AlertState } from './alert-state.js';

export interface AlertsReport {
  stateFile: string;
  checkedAtUTC: string;
  /** When the listener last changed the state; null: no sensor alert has run yet. */
  updatedUTC: string | null;
  problems: Array<{ sensor: string; kind: string; sinceUTC: string; detail: string; mailed: boolean }>;
  mutes: Array<{ sensor: string; kind: string; mailedUTC: string; untilUTC: string }>;
  undelivered: { lines: number; mailFailingSinceUTC: string | null };
}

export function alertsReport(state: AlertState | undefined, stateFile: string, now: number): AlertsReport {
  const byName = <T extends { sensor: string; kind: string }>(a: T, b: T): number => a.sensor.localeCompare(b.sensor) || a.kind.localeCompare(b.kind);
  return {
    stateFile,
    checkedAtUTC: new Date(now).toISOString(),
    updatedUTC: state?.updatedUTC ?? null,
    problems: (state?.problems ?? []).map((p) => ({ sensor: p.sensor, kind: p.kind, sinceUTC: p.sinceUTC, detail: p.detail, mailed: p.announced })).sort(byName),
    mutes: (state?.mutes ?? [])
      .filter((m) => Date.parse(m.untilUTC) > now)
      .map((m) => ({ sensor: m.sensor, kind: m.kind, mailedUTC: m.mailedUTC, untilUTC: m.untilUTC }))
      .sort(byName),
    undelivered: { lines: state?.outbox.length ?? 0, mailFailingSinceUTC: state?.mailFailingSinceUTC ?? null },
  };
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [fmt(header), ...rows.map(fmt)];
}

const local = (isoText: string): string => localTime(Date.parse(isoText));

export function formatAlertsReport(r: AlertsReport): string[] {
  if (r.updatedUTC === null) return [`no sensor alert state yet (${r.stateFile}): the listener has not run with --sensor-silence, --battery-low or --alert-rules`];
  const lines = [`sensor alerts (state ${r.stateFile}, last change ${local(r.updatedUTC)})`, ''];
  if (r.problems.length === 0) lines.push('no current problems');
  else lines.push(`${r.problems.length} current problem(s):`, ...table(['sensor', 'kind', 'since', 'mailed', 'detail'], r.problems.map((p) => [p.sensor, p.kind, local(p.sinceUTC), p.mailed ? 'yes' : 'muted', p.detail])));
  lines.push('');
  if (r.mutes.length === 0) lines.push('no mutes: the next problem of any sensor is mailed at once');
  else lines.push(`${r.mutes.length} mute(s):`, ...table(['sensor', 'kind', 'mailed', 'muted until'], r.mutes.map((m) => [m.sensor, m.kind, local(m.mailedUTC), local(m.untilUTC)])));
  if (r.undelivered.lines > 0) {
    lines.push(
      '',
      `${r.undelivered.lines} line(s) wait for the mail server${r.undelivered.mailFailingSinceUTC ? ` (failing since ${local(r.undelivered.mailFailingSinceUTC)})` : ''}; they go out with the next digest`,
    );
  }
  return lines;
}
