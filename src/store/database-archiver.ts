// DatabaseArchiver: when the database (main file + WAL) grows past --db-archive-size, its readings
// go into a gzipped, verified archive next to it, named after the first and last reading it holds
// (`<stem>-<first YYYYMMDDHHMM>-<last YYYYMMDDHHMM>[-n]<ext>.gz`, UTC), and the live database
// starts over. Checked at start-up and every 1000 stored readings.
//
// How nothing is lost or stored twice while readings keep arriving:
//  1. an online backup (better-sqlite3 db.backup(), on the writer's own connection) gives a
//     consistent copy while commits go on; the copy's highest rowid per table is the cut:
//     SQLite gives new rows max(rowid)+1 and we never delete outside step 4, so everything
//     committed after the copy has a higher rowid;
//  2. the copy is checked (integrity_check), gzipped, synced and read back (it must decompress to
//     the very bytes that were checked);
//  3. only then, between two commits of the writer (this step is synchronous), one transaction
//     checks that the live database holds exactly the copy's readings up to the cut, keeps what
//     came after the cut, the latest metadata row per sensor and the whole delivery_ledger (so QoS
//     redeliveries stay recognised), empties the rest, and moves the archive into its final name
//     just before COMMIT (a failed COMMIT deletes that archive again: its rows are still live);
//  4. VACUUM and a WAL checkpoint give the space back.
// The database is emptied in place rather than replaced by a new file: the writer's connection,
// prepared statements and caches stay valid, the original's schema (even its index name) is kept
// exactly, a reader that has the file open (a sqlite3 shell) is not handed a swapped file under
// its WAL, and there is no moment without a database at the configured path.
// If anything fails (no room on disk, a locked file), the error is logged, the temporary files are
// removed, the live database is untouched, and the next check retries.
import { lstatSync, readdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import Database from 'better-sqlite3';
import { errorText, exists } from '../files.js';
import { gzipFileVerified } from '../gzip.js';
import type { Logger } from '../logging/types.js';
import type { ReadingStore } from './reading-store.js';

export interface DatabaseArchiverOptions {
  /** --db-archive-size: main file + WAL bytes past which the database is archived. */
  maxBytes: number;
  /** Stored readings between two checks (1000, as the original). */
  checkEvery?: number;
  log: Logger;
  now?: () => number;
}

export interface ArchiveResult {
  file: string;
  readings: number;
  firstUTC: string;
  lastUTC: string;
  bytesIn: number;
  bytesOut: number;
}

export interface ArchiveEntry {
  file: string;
  name: string;
  /** 'YYYY-MM-DD HH:MM' UTC, from the name. */
  first: string;
  last: string;
  bytes: number;
  /** False for an uncompressed archive the original listener made (renamed database). */
  compressed: boolean;
}

interface CopyFacts {
  readings: number;
  rejected: number;
  firstUTC: string | null;
  lastUTC: string | null;
  cutReadings: number;
  cutSensors: number;
  cutRejected: number;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function isNoSpace(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === 'ENOSPC' || e?.code === 'SQLITE_FULL' || /database or disk is full|no space left/i.test(e?.message ?? '');
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function removeFile(path: string): void {
  try {
    if (lstatSync(path).isFile()) unlinkSync(path);
  } catch {
    /* not there */
  }
}

/** `YYYYMMDDHHMM` (UTC) from a recordWrittenUTC text, or from a clock when there is none. */
function minuteStamp(text: string | null, fallbackMs: number): string {
  const m = text ? /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})/.exec(text) : null;
  if (m) return `${m[1]}${m[2]}${m[3]}${m[4]}${m[5]}`;
  return new Date(fallbackMs).toISOString().slice(0, 16).replace(/\D/g, '');
}

function archivePattern(dbFile: string): RegExp {
  const ext = extname(dbFile);
  const stem = basename(dbFile, ext);
  return new RegExp(`^${escapeRegExp(stem)}-(\\d{12})-(\\d{12})(?:-(\\d+))?${escapeRegExp(ext)}(\\.gz)?$`);
}

function showStamp(s: string): string {
  return `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)} ${s.slice(8, 10)}:${s.slice(10, 12)}`;
}

/** The archives next to a database, oldest first (for `archive list`). */
export function listArchives(dbFile: string): ArchiveEntry[] {
  const dir = dirname(dbFile);
  const re = archivePattern(dbFile);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: Array<ArchiveEntry & { seq: number }> = [];
  for (const name of names) {
    const m = re.exec(name);
    if (!m) continue;
    const file = join(dir, name);
    out.push({
      file,
      name,
      first: showStamp(m[1]!),
      last: showStamp(m[2]!),
      bytes: fileSize(file),
      compressed: m[4] === '.gz',
      seq: Number(m[3] ?? 1),
    });
  }
  out.sort((a, b) => (a.first !== b.first ? (a.first < b.first ? -1 : 1) : a.last !== b.last ? (a.last < b.last ? -1 : 1) : a.seq - b.seq));
  return out.map(({ seq: _seq, ...entry }) => entry);
}

class Aborted extends Error {}

export class DatabaseArchiver {
  private readonly dir: string;
  private readonly stem: string;
  private readonly ext: string;
  private readonly checkEvery: number;
  private readonly now: () => number;
  private readonly abort = new AbortController();
  private sinceCheck = 0;
  private running: Promise<ArchiveResult | undefined> | undefined;
  private scheduled: Promise<void> | undefined;
  private started = false;
  private stopped = false;
  private warnedNothingToArchive = false;
  /** Archives made and failed attempts since start (status, tests). */
  readonly stats = { archives: 0, failures: 0, checks: 0 };

  constructor(
    private readonly store: ReadingStore,
    private readonly options: DatabaseArchiverOptions,
  ) {
    this.dir = dirname(store.path);
    this.ext = extname(store.path);
    this.stem = basename(store.path, this.ext);
    this.checkEvery = options.checkEvery ?? 1000;
    this.now = options.now ?? Date.now;
  }

  /** Where the consistent copy is made (next to the database, so on the same disk). */
  get copyPath(): string {
    return `${this.store.path}.archive-copy`;
  }

  /** Where the gzip is written before it is verified and gets its name. */
  get partialPath(): string {
    return `${this.store.path}.archive-copy.gz.partial`;
  }

  /** Removes what an interrupted archive left, and runs the start-up check in the background. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.removeTemporaries();
    void this.check();
  }

  /** Called after each commit with the readings it stored; every `checkEvery` of them, a check. */
  noteStored(readings: number): void {
    if (!this.started || this.stopped || readings <= 0) return;
    this.sinceCheck += readings;
    if (this.sinceCheck >= this.checkEvery) {
      this.sinceCheck = 0;
      // After the writer's flush loop that called us has finished, not in the middle of it.
      this.scheduled ??= Promise.resolve().then(() => {
        this.scheduled = undefined;
        void this.check();
      });
    }
  }

  /** Archives now if the database is past the size; one check at a time (a running one is returned). */
  check(): Promise<ArchiveResult | undefined> {
    if (this.stopped) return Promise.resolve(undefined);
    this.running ??= this.archiveIfDue().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Resolves when no check is running (tests). */
  async whenIdle(): Promise<void> {
    for (let i = 0; i < 10_000 && (this.scheduled || this.running); i++) await (this.scheduled ?? this.running);
  }

  /** Interrupts a running archive (the database is left as it was) and waits for it. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.running;
  }

  /** Main file + WAL, the size the original's check looked at (plus the WAL it did not have). */
  databaseBytes(): number {
    return fileSize(this.store.path) + fileSize(`${this.store.path}-wal`);
  }

  private removeTemporaries(): void {
    for (const p of [this.copyPath, `${this.copyPath}-journal`, `${this.copyPath}-wal`, `${this.copyPath}-shm`, this.partialPath]) removeFile(p);
  }

  private async archiveIfDue(): Promise<ArchiveResult | undefined> {
    const log = this.options.log;
    if (!this.store.isOpen) return undefined;
    this.stats.checks++;
    const size = this.databaseBytes();
    if (size <= this.options.maxBytes) return undefined;
    if (!this.hasRowsToArchive()) {
      if (!this.warnedNothingToArchive) {
        log.warn(`database ${this.store.path} is ${size} bytes (past --db-archive-size ${this.options.maxBytes}) but holds no readings to archive`);
        this.warnedNothingToArchive = true;
      }
      return undefined;
    }
    const free = await freeBytes(this.dir);
    const need = Math.ceil(size * 1.5);
    if (free !== undefined && free < need) {
      this.stats.failures++;
      log.error(
        `no room on disk to archive ${this.store.path}: about ${need} bytes needed, ${free} free; ` +
          'still writing to the current database, retrying at the next check',
      );
      return undefined;
    }
    log.info(`database ${this.store.path} is ${size} bytes (past ${this.options.maxBytes}): archiving it`);
    this.removeTemporaries();
    try {
      return await this.archive();
    } catch (err) {
      if (err instanceof Aborted || this.stopped) {
        log.info('database archive interrupted by shutdown; the database is unchanged and is checked again at the next start');
      } else {
        this.stats.failures++;
        const why = isNoSpace(err) ? `no room on disk (${errorText(err)})` : errorText(err);
        log.error(`could not archive ${this.store.path}: ${why}; still writing to the current database, retrying at the next check`);
      }
      return undefined;
    } finally {
      this.removeTemporaries();
    }
  }

  private hasRowsToArchive(): boolean {
    const db = this.store.database;
    return db.prepare('SELECT EXISTS(SELECT 1 FROM ECCTempHum) OR EXISTS(SELECT 1 FROM rejected_messages) AS x').pluck().get() === 1;
  }

  private async archive(): Promise<ArchiveResult> {
    const signal = this.abort.signal;
    // 1. A consistent copy, made in steps between which the writer goes on committing.
    await this.store.database.backup(this.copyPath, {
      progress: () => {
        if (signal.aborted) throw new Aborted();
        return 2000; // pages per step: large enough to be quick, small enough to keep latency low
      },
    });
    if (signal.aborted) throw new Aborted();
    const facts = this.inspectCopy();
    const name = this.freeArchiveName(facts);

    // 2. gzip, sync, read back.
    const gz = await gzipFileVerified(this.copyPath, this.partialPath, signal);
    if (signal.aborted) throw new Aborted();

    // 3. The switch, synchronous: no commit of the writer can come in between.
    const file = join(this.dir, name);
    this.switchOver(facts, file);
    this.stats.archives++;
    this.options.log.info(
      `archived ${facts.readings} reading(s) from ${facts.firstUTC ?? '-'} to ${facts.lastUTC ?? '-'} ` +
        `(${gz.bytesIn} bytes, ${gz.bytesOut} gzipped) to ${file}; the database starts over`,
    );

    // 4. Space back; a failure here only leaves the file larger (the next check tries again).
    try {
      const db = this.store.database;
      db.exec('VACUUM');
      db.pragma('wal_checkpoint(TRUNCATE)');
    } catch (err) {
      this.options.log.warn(`archived, but could not shrink ${this.store.path}: ${errorText(err)}`);
    }
    return { file, readings: facts.readings, firstUTC: facts.firstUTC ?? '', lastUTC: facts.lastUTC ?? '', bytesIn: gz.bytesIn, bytesOut: gz.bytesOut };
  }

  /** Makes the copy a self-contained file (no WAL), checks it, and reads what the switch needs. */
  private inspectCopy(): CopyFacts {
    const copy = new Database(this.copyPath);
    try {
      copy.pragma('journal_mode = DELETE');
      const check = copy.pragma('integrity_check', { simple: true });
      if (check !== 'ok') throw new Error(`the copy of the database fails integrity_check: ${String(check)}`);
      const one = <T>(sql: string): T => copy.prepare(sql).pluck().get() as T;
      const facts: CopyFacts = {
        readings: one<number>('SELECT COUNT(*) FROM ECCTempHum'),
        rejected: one<number>('SELECT COUNT(*) FROM rejected_messages'),
        firstUTC: one<string | null>('SELECT MIN(recordWrittenUTC) FROM ECCTempHum'),
        lastUTC: one<string | null>('SELECT MAX(recordWrittenUTC) FROM ECCTempHum'),
        cutReadings: one<number | null>('SELECT MAX(rowid) FROM ECCTempHum') ?? 0,
        cutSensors: one<number | null>('SELECT MAX(rowid) FROM ECCTempHumSensor') ?? 0,
        cutRejected: one<number | null>('SELECT MAX(rowid) FROM rejected_messages') ?? 0,
      };
      if (facts.readings === 0) {
        // Only rejected messages: name the archive after their receive times.
        facts.firstUTC = one<string | null>('SELECT MIN(receivedUTC) FROM rejected_messages');
        facts.lastUTC = one<string | null>('SELECT MAX(receivedUTC) FROM rejected_messages');
      }
      return facts;
    } finally {
      copy.close();
    }
  }

  /** `<stem>-<first>-<last><ext>.gz`, or with -2, -3 … before the extension: never an existing name. */
  private freeArchiveName(facts: CopyFacts): string {
    const now = this.now();
    const base = `${this.stem}-${minuteStamp(facts.firstUTC, now)}-${minuteStamp(facts.lastUTC, now)}`;
    for (let n = 1; n < 100_000; n++) {
      const plain = n === 1 ? `${base}${this.ext}` : `${base}-${n}${this.ext}`;
      // The uncompressed name is skipped too: the original listener left archives under it.
      if (!exists(join(this.dir, `${plain}.gz`)) && !exists(join(this.dir, plain))) return `${plain}.gz`;
    }
    throw new Error(`no free archive name for ${base}`);
  }

  private switchOver(facts: CopyFacts, archiveFile: string): void {
    const db = this.store.database;
    for (const n of [facts.cutReadings, facts.cutSensors, facts.cutRejected]) {
      if (!Number.isSafeInteger(n) || n < 0) throw new Error(`unexpected rowid ${n} in the copy`);
    }
    const count = (sql: string): number => db.prepare(sql).pluck().get() as number;
    const tx = db.transaction(() => {
      const liveReadings = count(`SELECT COUNT(*) FROM main.ECCTempHum WHERE rowid <= ${facts.cutReadings}`);
      const liveRejected = count(`SELECT COUNT(*) FROM main.rejected_messages WHERE rowid <= ${facts.cutRejected}`);
      if (liveReadings !== facts.readings || liveRejected !== facts.rejected) {
        throw new Error(
          `the copy holds ${facts.readings} readings and ${facts.rejected} rejected messages, the database ` +
            `${liveReadings} and ${liveRejected} up to the same point; the database is left as it is`,
        );
      }
      db.exec(`
        DROP TABLE IF EXISTS temp.archive_keep_readings;
        DROP TABLE IF EXISTS temp.archive_keep_sensors;
        DROP TABLE IF EXISTS temp.archive_keep_rejected;
        CREATE TEMP TABLE archive_keep_readings AS
          SELECT * FROM main.ECCTempHum WHERE rowid > ${facts.cutReadings} ORDER BY rowid;
        CREATE TEMP TABLE archive_keep_sensors AS
          SELECT * FROM main.ECCTempHumSensor s
           WHERE s.rowid > ${facts.cutSensors}
              OR s.recordWrittenUTC = (SELECT MAX(t.recordWrittenUTC) FROM main.ECCTempHumSensor t WHERE t.sensorName = s.sensorName)
           ORDER BY s.rowid;
        CREATE TEMP TABLE archive_keep_rejected AS
          SELECT * FROM main.rejected_messages WHERE rowid > ${facts.cutRejected} ORDER BY rowid;
        DELETE FROM main.ECCTempHum;
        DELETE FROM main.ECCTempHumSensor;
        DELETE FROM main.rejected_messages;
        INSERT INTO main.ECCTempHum SELECT * FROM temp.archive_keep_readings;
        INSERT INTO main.ECCTempHumSensor SELECT * FROM temp.archive_keep_sensors;
        INSERT INTO main.rejected_messages SELECT * FROM temp.archive_keep_rejected;
        DROP TABLE temp.archive_keep_readings;
        DROP TABLE temp.archive_keep_sensors;
        DROP TABLE temp.archive_keep_rejected;
      `);
      // Last step before COMMIT: if the name was taken meanwhile, or the move fails, nothing changes.
      if (exists(archiveFile)) throw new Error(`${archiveFile} appeared meanwhile; not overwriting it`);
      renameSync(this.partialPath, archiveFile);
    });
    try {
      tx.immediate();
    } catch (err) {
      // A failed COMMIT after the move: its rows are all still live, so this archive must go.
      if (exists(archiveFile) && !exists(this.partialPath)) {
        try {
          const stillThere = count('SELECT COUNT(*) FROM main.ECCTempHum');
          if (stillThere >= facts.readings) unlinkSync(archiveFile);
        } catch {
          /* leave it: an archive too many loses nothing */
        }
      }
      throw err;
    }
  }
}

async function freeBytes(dir: string): Promise<number | undefined> {
  try {
    const s = await statfs(dir);
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return undefined; // not supported here: the copy itself will fail cleanly if the disk is full
  }
}
