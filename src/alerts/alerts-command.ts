// The `alerts` subcommand (and the data behind /api/alerts): alertsReport() of a running
// listener's live state, or of the state file when none runs here; printed as a table or JSON.
import { ConfigError } from '../config.js';
import { readAlertStateFile, type AlertState } from './alert-state.js';
import { alertsReport, formatAlertsReport, type AlertsReport } from './alerts-report.js';
import { alertStateFileFor } from './sensor-alert-options.js';

/**
 * What `alerts --json` prints. `live` is a running listener's SensorAlerts.snapshot() (the HTTP
 * service passes it); without it the state file next to the last-notice file (-n) is read.
 * Throws ConfigError when the file is damaged.
 */
export function readAlertsReport(lastNoticeFile: string, live?: AlertState, now = Date.now()): AlertsReport {
  const file = alertStateFileFor(lastNoticeFile);
  let state = live;
  try {
    state ??= readAlertStateFile(file);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  return alertsReport(state, file, now);
}

/** Returns the exit code: 0 no problem, 1 at least one sensor has a problem (2 via ConfigError). */
export function printAlerts(lastNoticeFile: string, json: boolean, io: { out: (line: string) => void }, now = Date.now()): number {
  const report = readAlertsReport(lastNoticeFile, undefined, now);
  if (json) io.out(JSON.stringify(report, null, 2));
  else for (const line of formatAlertsReport(report)) io.out(line);
  return report.problems.length > 0 ? 1 : 0;
}
