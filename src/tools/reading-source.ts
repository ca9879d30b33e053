// Where `export` and `import` read readings from: a SQLite database (ours, beside a running
// listener, or the original listener's) or one of our gzipped archives (a whole database file,
// gzipped by the DatabaseArchiver). What a file is is decided by its first bytes, not its name.
// Databases are opened read-only; an archive is first unpacked to a temporary file next to it
// (same disk as the archive: /tmp may be a small RAM disk) or, if that folder is read-only, in the
// system's temp folder, and that file is removed again by close().
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';
import { ConfigError } from '../config.js';
import { errorText } from '../files.js';
import { gunzipFile } from '../gzip.js';
import { READINGS_TABLE } from '../store/schema.js';

export type FileKind = 'sqlite' | 'gzip' | 'other';

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

/** What a file holds, from its first 16 bytes; a file that cannot be read is a ConfigError. */
export function fileKind(file: string): FileKind {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new ConfigError(`cannot read ${file}: ${errorText(err)}`);
  }
  try {
    const head = Buffer.alloc(16);
    let n: number;
    try {
      n = readSync(fd, head, 0, 16, 0);
    } catch (err) {
      throw new ConfigError(`cannot read ${file}: ${errorText(err)}`);
    }
    if (n === 16 && head.equals(SQLITE_MAGIC)) return 'sqlite';
    if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
    return 'other';
  } finally {
    closeSync(fd);
  }
}

export interface ReadingSource {
  /** The file named by the user. */
  file: string;
  kind: 'database' | 'archive';
  db: BetterSqlite3.Database;
  /** Closes the database and removes an unpacked archive. Idempotent. */
  close(): void;
}

function tableExists(db: BetterSqlite3.Database, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?").get(name) !== undefined;
}

/** Opens a database read-only and checks it is a listener database (it has the readings table). */
export function openDatabaseReadOnly(file: string, shownAs: string = file): BetterSqlite3.Database {
  let db: BetterSqlite3.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new ConfigError(`cannot open database ${shownAs}: ${errorText(err)}`);
  }
  try {
    // Beside a running listener: wait out its commits rather than fail on SQLITE_BUSY.
    db.pragma('busy_timeout = 5000');
    if (!tableExists(db, READINGS_TABLE)) throw new ConfigError(`${shownAs} is not a listener database (it has no ${READINGS_TABLE} table)`);
  } catch (err) {
    db.close();
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`cannot read database ${shownAs}: ${errorText(err)}`);
  }
  return db;
}

function unpackFolder(archive: string): string {
  try {
    return mkdtempSync(join(dirname(archive), `.${basename(archive)}.unpacked-`));
  } catch {
    return mkdtempSync(join(tmpdir(), 'mqtt-iot-listener-unpacked-'));
  }
}

// Unpacked archives still on disk, removed on a signal too (Ctrl+C during a long export).
const unpacked = new Set<string>();
let signalHandlersInstalled = false;

function removeUnpackedOnSignal(): void {
  if (signalHandlersInstalled) return;
  signalHandlersInstalled = true;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      for (const dir of unpacked) rmSync(dir, { recursive: true, force: true });
      process.exit(130);
    });
  }
}

/** A database or one of our gzipped archives, opened read-only. Anything else is a ConfigError. */
export async function openReadingSource(file: string): Promise<ReadingSource> {
  const kind = fileKind(file);
  if (kind === 'sqlite') {
    const db = openDatabaseReadOnly(file);
    return { file, kind: 'database', db, close: () => db.open && db.close() };
  }
  if (kind !== 'gzip') throw new ConfigError(`${file} is neither a listener database nor a gzipped database archive`);
  const dir = unpackFolder(file);
  unpacked.add(dir);
  removeUnpackedOnSignal();
  const remove = (): void => {
    rmSync(dir, { recursive: true, force: true });
    unpacked.delete(dir);
  };
  const target = join(dir, basename(file).replace(/\.gz$/i, '') || 'archive.sqlite3');
  try {
    await gunzipFile(file, target);
    if (fileKind(target) !== 'sqlite') throw new ConfigError(`${file} is gzipped but holds no database`);
    const db = openDatabaseReadOnly(target, file);
    return {
      file,
      kind: 'archive',
      db,
      close: () => {
        if (db.open) db.close();
        remove();
      },
    };
  } catch (err) {
    remove();
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`cannot unpack archive ${file}: ${errorText(err)}`);
  }
}
