// The `alerts` subcommand: prints alertsReport() of the state file, as a table or JSON.
import { ConfigError } from '../config.js';
import { readAlertStateFile } from './alert-state.js';
import { alertsReport, formatAlertsReport } from './alerts-report.js';
import { alertStateFileFor } from './sensor-alert-options.js';

/** Returns the exit code: 0 no problem, 1 at least one sensor has a problem (2 via ConfigError). */
export function printAlerts(lastNoticeFile: string, json: boolean, io: { out: (line: string) => void }, now = Date.now()): number {
  const file = alertStateFileFor(lastNoticeFile);
  let state;
  try {
    state = readAlertStateFile(file);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const report = alertsReport(state, file, now);
  if (json) io.out(JSON.stringify(report, null, 2));
  else for (const line of formatAlertsReport(report)) io.out(line);
  return report.problems.length > 0 ? 1 : 0;
}
