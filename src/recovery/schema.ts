// The recovery tables, beside the original's (which stay untouched, so the original listener can
// still write the same database): the outage log and the listener's last sign of life, where each
// recovered reading came from, and the recovery requests this listener has answered.
import type BetterSqlite3 from 'better-sqlite3';

const CREATE = `
CREATE TABLE IF NOT EXISTS outage_log (id INTEGER PRIMARY KEY AUTOINCREMENT, eventUTC TEXT NOT NULL,
  event TEXT NOT NULL, reason TEXT, lostUTC TEXT, restoredUTC TEXT);
CREATE TABLE IF NOT EXISTS listener_alive (id INTEGER PRIMARY KEY CHECK (id = 1), aliveUTC TEXT NOT NULL,
  lostUTC TEXT, stoppedUTC TEXT);
CREATE TABLE IF NOT EXISTS reading_sources (sensorName TEXT NOT NULL, recordWrittenUTC TEXT NOT NULL,
  source TEXT NOT NULL, sourceId TEXT, storedUTC TEXT NOT NULL, PRIMARY KEY (sensorName, recordWrittenUTC));
CREATE TABLE IF NOT EXISTS recovery_answers (requestKey TEXT PRIMARY KEY, request TEXT NOT NULL,
  receivedUTC TEXT NOT NULL, answeredUTC TEXT, readings INTEGER);
`;

/** Creates whatever is missing (idempotent). */
export function ensureRecoverySchema(db: BetterSqlite3.Database): void {
  db.exec(CREATE);
}
