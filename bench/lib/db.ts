// Reading the listener's database from the bench while it writes (WAL: readers do not block the
// writer). Rows are numbered by rowid (no deletes), so MAX(rowid) is a cheap row count.
import { existsSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';
import { SEQ_SQL, decodeSeq, wallMs } from './payload.js';
import { parseMicrosUTC } from '../../src/store/time.js';

export class RowWatcher {
  private db: BetterSqlite3.Database | undefined;
  private countStmt: BetterSqlite3.Statement | undefined;

  constructor(readonly file: string) {}

  private open(): BetterSqlite3.Database | undefined {
    if (this.db) return this.db;
    if (!existsSync(this.file)) return undefined;
    try {
      const db = new Database(this.file, { readonly: true, fileMustExist: true, timeout: 200 });
      this.countStmt = db.prepare('SELECT COALESCE(MAX(rowid), 0) FROM ECCTempHum').pluck();
      this.db = db;
    } catch {
      return undefined; // not created yet (no table): try again at the next poll
    }
    return this.db;
  }

  private lastCount = 0;

  /** Rows committed so far; the last value seen while a rollback-journal writer holds its lock. */
  count(): number {
    if (!this.open()) return this.lastCount;
    try {
      this.lastCount = this.countStmt!.get() as number;
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
    }
    return this.lastCount;
  }

  /** Polls until `target` rows are committed; returns when it saw them, or undefined on timeout. */
  async waitForCount(target: number, timeoutMs: number, pollMs = 5): Promise<number | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.count() >= target) return wallMs();
      await new Promise((r) => setTimeout(r, pollMs));
    }
    return undefined;
  }

  /** Polls until the row count reaches `target` or has not moved for `quietMs` (or the deadline). */
  async waitUntilStable(
    quietMs: number,
    timeoutMs: number,
    pollMs = 100,
    target = Number.POSITIVE_INFINITY,
  ): Promise<{ count: number; lastChangeAt: number; settled: boolean }> {
    const deadline = Date.now() + timeoutMs;
    let last = this.count();
    let lastChangeAt = wallMs();
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, pollMs));
      const n = this.count();
      if (n !== last) {
        last = n;
        lastChangeAt = wallMs();
        if (n >= target) return { count: n, lastChangeAt, settled: true };
      } else if (n >= target || wallMs() - lastChangeAt >= quietMs) {
        return { count: n, lastChangeAt, settled: true };
      }
    }
    return { count: last, lastChangeAt, settled: false };
  }

  /**
   * Follows new rows every `pollMs`: for each, the time the bench first saw it committed and the
   * receive time the listener wrote (recordWrittenUTC), by sequence number. Until `target` rows
   * or the deadline.
   */
  async followCommits(target: number, timeoutMs: number, pollMs = 2): Promise<Map<number, { seenAt: number; receivedAt: number }>> {
    const out = new Map<number, { seenAt: number; receivedAt: number }>();
    const deadline = Date.now() + timeoutMs;
    let lastRowid = 0;
    let stmt: BetterSqlite3.Statement | undefined;
    while (Date.now() < deadline && out.size < target) {
      const db = this.open();
      if (db) {
        stmt ??= db.prepare('SELECT rowid AS id, temperatureF AS t, relHumidityPercent AS h, recordWrittenUTC AS w FROM ECCTempHum WHERE rowid > ? ORDER BY rowid');
        const rows = stmt.all(lastRowid) as Array<{ id: number; t: number; h: number; w: string }>;
        const seenAt = wallMs();
        for (const r of rows) {
          lastRowid = r.id;
          out.set(decodeSeq(r.t, r.h), { seenAt, receivedAt: parseMicrosUTC(r.w) / 1000 });
        }
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
    return out;
  }

  close(): void {
    this.db?.close();
    this.db = undefined;
    this.countStmt = undefined;
  }
}

export interface DbCheck {
  rows: number;
  distinctMessages: number;
  fileBytes: number;
  /** Bytes of the readings table and its indexes (dbstat), excluding our ledger and rejects. */
  readingBytes: number;
}

/**
 * After the listener has stopped (database closed, WAL checkpointed): counts and sizes, of the
 * rows after `afterRowid` (those of a seeded database are left out).
 */
export function checkDatabase(file: string, afterRowid = 0): DbCheck {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT COUNT(*) FROM ECCTempHum WHERE rowid > ?').pluck().get(afterRowid) as number;
    const distinctMessages = db.prepare(`SELECT COUNT(DISTINCT ${SEQ_SQL}) FROM ECCTempHum WHERE rowid > ?`).pluck().get(afterRowid) as number;
    const readingBytes = db
      .prepare(
        `SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name IN
           (SELECT name FROM sqlite_master WHERE tbl_name IN ('ECCTempHum', 'ECCTempHumSensor'))`,
      )
      .pluck()
      .get() as number;
    const wal = `${file}-wal`;
    const fileBytes = statSync(file).size + (existsSync(wal) ? statSync(wal).size : 0);
    return { rows, distinctMessages, fileBytes, readingBytes };
  } finally {
    db.close();
  }
}
