// `support-bundle`: one .zip a user can attach to a bug report — the log and its rotated archives
// (and the MQTT library's debug log, if configured), `status --json`, `check-config`, versions
// (listener, Node, SQLite, OS), PRAGMA integrity_check and the last 1 000 rejected messages.
// Nothing secret goes in: credentials files are never read into it, the configuration is the
// masked one of check-config, and every text is passed through the SecretScrubber with every
// secret the configuration holds (any string under a key named like a password, secret or token,
// whatever part of the configuration it belongs to) and the password fields of the credentials
// files. It is made when things are broken, so every part that fails is replaced by its error
// text instead of failing the whole bundle.
import { once } from 'node:events';
import { createReadStream, createWriteStream, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { arch, platform, release, type as osType, version as osVersion } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ZipArchive } from 'archiver';
import Database from 'better-sqlite3';
import { credentialLines, describeConfig, type Config } from '../config.js';
import { errorText, isFile } from '../files.js';
import { readStatus } from '../status.js';
import { listArchives } from '../store/database-archiver.js';
import { REJECTS_TABLE } from '../store/schema.js';
import { VERSION_LINE } from '../version.js';
import { openDatabaseReadOnly } from './reading-source.js';
import { SecretScrubber, scrubText, secretForms } from './secret-scrubber.js';

export const REJECTED_KEPT = 1000;

export interface BundleInput {
  /** The resolved configuration, or why it could not be resolved (the bundle is made anyway). */
  config: Config | { error: string };
  warnings: readonly string[];
  /** Paths, known even when the configuration is not valid. */
  dbFile: string;
  logFile: string;
  mqttDebugLog?: string;
  credentialsFiles: readonly string[];
  out: string;
  now?: () => number;
}

export interface BundleResult {
  file: string;
  bytes: number;
  entries: string[];
}

const SECRET_KEY = /pass(word)?|secret|token|credential(?!sFile|sExplicit)/i;

const URL_WITH_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^/\s@]*:[^/\s@]*@/i;

/**
 * Every string value under a secret-sounding key, anywhere in the configuration, and the password
 * of any URL in it (`-d postgres://user:password@host/db`), as written and decoded.
 */
export function configSecrets(value: unknown, key = '', out: string[] = []): string[] {
  if (typeof value === 'string') {
    if (SECRET_KEY.test(key)) out.push(value);
    if (URL_WITH_PASSWORD.test(value)) {
      try {
        const password = new URL(value).password;
        if (password) out.push(password, decodeURIComponent(password));
      } catch {
        /* not a URL after all */
      }
    }
  } else if (Array.isArray(value)) {
    for (const v of value) configSecrets(v, key, out);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) configSecrets(v, k, out);
  }
  return out;
}

/** The second field of each line of the credentials files (the password in both formats). */
function fileSecrets(files: readonly string[]): string[] {
  const out: string[] = [];
  for (const f of files) {
    try {
      for (const line of credentialLines(f)) {
        const field = line.split(',')[1]?.trim();
        if (field) out.push(field);
      }
    } catch {
      /* no such file: nothing to mask */
    }
  }
  return out;
}

/** The log file and everything its rotation made next to it (numbered, dated, pending), oldest name last. */
export function logFamily(logFile: string): string[] {
  const dir = dirname(logFile);
  const base = basename(logFile);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => (n === base || n.startsWith(`${base}.`)) && !n.endsWith('.partial') && isFile(join(dir, n)))
    .sort()
    .map((n) => join(dir, n));
}

/** A log file as text, gunzipped if need be, secrets masked; a read error ends it with a note. */
function logText(file: string, scrubber: SecretScrubber): Readable {
  const out = new PassThrough();
  const stages: NodeJS.ReadWriteStream[] = [];
  const input = createReadStream(file);
  let last: NodeJS.ReadableStream = input;
  if (file.endsWith('.gz')) stages.push(createGunzip());
  stages.push(scrubber);
  for (const s of stages) last = last.pipe(s);
  let failed = false;
  for (const s of [input, ...stages] as NodeJS.EventEmitter[]) {
    s.on('error', (err: Error) => {
      if (failed) return;
      failed = true;
      last.unpipe(out);
      out.end(`\n[support-bundle: could not read the rest of ${basename(file)}: ${errorText(err)}]\n`);
    });
  }
  last.pipe(out);
  return out;
}

function attempt(what: string, fn: () => string): string {
  try {
    return fn();
  } catch (err) {
    return `could not get ${what}: ${errorText(err)}\n`;
  }
}

function versions(): string {
  const mem = new Database(':memory:');
  try {
    const sqlite = mem.prepare('SELECT sqlite_version()').pluck().get() as string;
    return `${JSON.stringify(
      { listener: VERSION_LINE, node: process.version, sqlite, os: `${osType()} ${release()}`, osVersion: osVersion(), platform: platform(), arch: arch() },
      null,
      2,
    )}\n`;
  } finally {
    mem.close();
  }
}

function integrityCheck(dbFile: string): string {
  const db = openDatabaseReadOnly(dbFile);
  try {
    const rows = db.pragma('integrity_check', { simple: false }) as Array<{ integrity_check: string }>;
    return `PRAGMA integrity_check on ${dbFile}:\n${rows.map((r) => r.integrity_check).join('\n')}\n`;
  } finally {
    db.close();
  }
}

function rejectedMessages(dbFile: string): string {
  const db = openDatabaseReadOnly(dbFile);
  try {
    const has = db.prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?").get(REJECTS_TABLE) !== undefined;
    if (!has) return '[]\n';
    const rows = db.prepare(`SELECT * FROM ${REJECTS_TABLE} ORDER BY id DESC LIMIT ${REJECTED_KEPT}`).all();
    return `${JSON.stringify(rows, null, 1)}\n`;
  } finally {
    db.close();
  }
}

function archivesList(dbFile: string): string {
  const entries = listArchives(dbFile);
  if (entries.length === 0) return `no archives next to ${dbFile}\n`;
  return entries.map((e) => `${e.first}  ${e.last}  ${String(e.bytes).padStart(12)}  ${e.name}`).join('\n') + '\n';
}

export async function writeSupportBundle(input: BundleInput): Promise<BundleResult> {
  const secrets = [...configSecrets(input.config), ...fileSecrets(input.credentialsFiles)];
  for (const name of ['MQTT_PASSWORD', 'PGPASSWORD']) {
    const envPassword = process.env[name];
    if (envPassword) secrets.push(envPassword);
  }
  configSecrets(input.dbFile, 'dbFile', secrets);
  const forms = secretForms(secrets);
  const nowMs = (input.now ?? Date.now)();
  const entries: string[] = [];
  const partial = `${input.out}.partial`;
  const zip = new ZipArchive({ zlib: { level: 6 } });
  const file = createWriteStream(partial);
  zip.pipe(file);
  let zipError: Error | undefined;
  zip.on('error', (err) => (zipError = err));
  file.on('error', (err) => (zipError = err));
  const text = (name: string, body: string): void => {
    zip.append(scrubText(body, forms), { name, date: new Date(nowMs) });
    entries.push(name);
  };

  const never = input.credentialsFiles.map((f) => join(dirname(f), basename(f)));
  const logs = [...logFamily(input.logFile), ...(input.mqttDebugLog ? logFamily(input.mqttDebugLog) : [])].filter((f) => !never.includes(f));

  text(
    'README.txt',
    `mqtt-iot-listener support bundle, made ${new Date(nowMs).toISOString()}\n\n` +
      'versions.json            listener, Node.js, SQLite and OS versions\n' +
      'check-config.json        the effective configuration, secrets masked (as `check-config` prints it)\n' +
      'status.json              `status --json`: sensors, last readings, totals\n' +
      'integrity-check.txt      PRAGMA integrity_check of the database\n' +
      `rejected-messages.json   the last ${REJECTED_KEPT} rejected messages, newest first\n` +
      'database-archives.txt    the database archives next to the database\n' +
      'logs/                    the log and its rotated archives (unpacked), secrets masked\n' +
      '\nNo credentials file is included; known secrets are replaced by ********.\n',
  );
  text('versions.json', attempt('versions', versions));
  text(
    'check-config.json',
    'error' in input.config
      ? `{"error": ${JSON.stringify(input.config.error)}}\n`
      : `${JSON.stringify({ ...describeConfig(input.config), warnings: input.warnings }, null, 2)}\n`,
  );
  text('status.json', attempt('status', () => `${JSON.stringify(readStatus(input.dbFile, { now: () => nowMs }), null, 2)}\n`));
  text('integrity-check.txt', attempt('the integrity check', () => integrityCheck(input.dbFile)));
  text('rejected-messages.json', attempt('the rejected messages', () => rejectedMessages(input.dbFile)));
  text('database-archives.txt', attempt('the database archives', () => archivesList(input.dbFile)));
  for (const log of logs) {
    const name = `logs/${basename(log).replace(/\.gz$/, '')}`;
    let date: Date;
    try {
      date = statSync(log).mtime;
    } catch {
      continue; // rotated away or pruned since the listing
    }
    zip.append(logText(log, new SecretScrubber(forms)), { name, date });
    entries.push(name);
  }
  try {
    await zip.finalize();
    if (!file.closed) await once(file, 'close');
    if (zipError) throw zipError;
    renameSync(partial, input.out);
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  }
  return { file: input.out, bytes: statSync(input.out).size, entries };
}
