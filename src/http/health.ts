// GET /health: one answer a monitoring system can act on. 200 "ok" (or "degraded" while MQTT is
// briefly down); 503 when the database does not take writes or MQTT has been down longer than the
// watchdog period (-t). Secrets never appear: the broker is shown as its URL without credentials.
import { statSync } from 'node:fs';
import { VERSION } from '../version.js';
import type { ListenerParts } from './listener-parts.js';
import type { Awaitable, DatabaseInfo } from './read-source.js';
import { sendJson, type Route } from './routes.js';

/** Main file + WAL: what the database takes on disk now. */
export function databaseBytes(path: string): number {
  let total = 0;
  for (const f of [path, `${path}-wal`]) {
    try {
      total += statSync(f).size;
    } catch {
      /* no WAL yet */
    }
  }
  return total;
}

/** SQLite: the file and its size on disk (no query: /health stays free while the writer commits). */
export function sqliteDatabaseInfo(path: string): DatabaseInfo {
  return { path, bytes: databaseBytes(path), reachable: true };
}

/** `db`: the database as its reader sees it (PostgreSQL: masked URL, pg_database_size, reachable). */
export function healthReport(app: ListenerParts, nowMs: number, db: DatabaseInfo = sqliteDatabaseInfo(app.config.dbFile)): { httpStatus: number; body: Record<string, unknown> } {
  const c = app.config;
  const periodMs = c.timerCheckMinutes * 60_000;
  const connected = app.mqtt?.connected ?? false;
  const downSince = app.mqtt?.disconnectedSince;
  const downTooLong = !connected && downSince !== undefined && nowMs - downSince > periodMs;
  const writable = app.readingWriter !== undefined && !app.readingWriter.failing && db.reachable;
  const last = app.activity.lastMessageAt;
  const bad = !writable || downTooLong;
  return {
    httpStatus: bad ? 503 : 200,
    body: {
      status: bad || !connected ? 'degraded' : 'ok',
      mqtt: {
        connected,
        broker: app.mqtt?.brokerUrl ?? null,
        lastMessageAgeSeconds: last > 0 ? Math.max(0, Math.round((nowMs - last) / 1000)) : null,
        disconnectedSinceUTC: downSince !== undefined && !connected ? new Date(downSince).toISOString() : null,
      },
      database: { path: db.path, bytes: db.bytes, writable, pendingMessages: app.readingWriter?.pending ?? 0 },
      watchdog: {
        periodSeconds: periodMs / 1000,
        restarts: app.watchdog?.stats.restarts ?? 0,
        noMessagesForAPeriod: app.watchdog?.inOutage ?? false,
      },
      version: VERSION,
    },
  };
}

export function healthRoutes(app: ListenerParts, now: () => number = Date.now, database?: () => Awaitable<DatabaseInfo>): Route[] {
  return [
    {
      method: 'GET',
      path: '/health',
      handle: async ({ res }) => {
        const r = database ? healthReport(app, now(), await database()) : healthReport(app, now());
        sendJson(res, r.httpStatus, r.body);
      },
    },
  ];
}
