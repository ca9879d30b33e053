// GET /api/alerts on the status service (--http): the same report as `alerts --json`, from the
// running listener's live state (or its state file when the sensor alerts are off here).
import { HttpError, sendJson, type Route } from '../http/routes.js';
import type { AlertState } from './alert-state.js';
import { readAlertsReport } from './alerts-command.js';

export function alertsRoutes(lastNoticeFile: string, live: () => AlertState | undefined, now: () => number = Date.now): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/alerts',
      handle: ({ res }) => {
        let report;
        try {
          report = readAlertsReport(lastNoticeFile, live(), now());
        } catch (err) {
          throw new HttpError(500, (err as Error).message);
        }
        sendJson(res, 200, report);
      },
    },
  ];
}
