// The sensor alerts' memory across restarts: current problems, per-(sensor, kind) mutes and the
// digest lines not yet delivered (the outbox), in one JSON file next to the last-notice file.
// A file rather than a table in the database: the writer owns the database's write lock (a second
// writer there could make its commits fail with SQLITE_BUSY), the database archiver replaces the
// database file when it rotates it (the mutes would be lost with it), and `alerts` can read a
// file without a database. Written atomically; a damaged file is one warning and a fresh start.
import { readFileSync } from 'node:fs';
import type { Logger } from '../logging/types.js';
import { writeFileAtomic } from './atomic-file.js';

export interface ProblemRecord {
  sensor: string;
  /** "silent", "battery low" or a rule, e.g. "temperatureF < 40 for 10m". */
  kind: string;
  /** When the problem began (silent: the last reading; a rule: the first reading that met it). */
  sinceUTC: string;
  /** One line for people, e.g. "battPercent 8 (limit < 15)". */
  detail: string;
  /** Its line was queued for a digest, so its end gets a recovery line. */
  announced: boolean;
}

export interface MuteRecord {
  sensor: string;
  kind: string;
  /** When its line was delivered (or queued, while the mail server is down). */
  mailedUTC: string;
  untilUTC: string;
}

export interface DigestLine {
  /** reminder: a problem still there when its mute ended (once every -s). */
  type: 'problem' | 'reminder' | 'recovery';
  sensor: string;
  kind: string;
  atUTC: string;
  text: string;
}

export interface AlertState {
  version: 1;
  updatedUTC: string;
  problems: ProblemRecord[];
  mutes: MuteRecord[];
  /** Lines waiting for the mail server, oldest first. */
  outbox: DigestLine[];
  /** Since when the mail server refuses or cannot be reached (absent when it works). */
  mailFailingSinceUTC?: string;
}

export function emptyAlertState(now: number): AlertState {
  return { version: 1, updatedUTC: new Date(now).toISOString(), problems: [], mutes: [], outbox: [] };
}

function isArrayOf(value: unknown, keys: readonly string[]): boolean {
  return Array.isArray(value) && value.every((v) => typeof v === 'object' && v !== null && keys.every((k) => k in v));
}

/** The state in the file's text, or undefined when it is not ours or damaged. */
export function parseAlertState(text: string): AlertState | undefined {
  try {
    const d = JSON.parse(text) as Partial<AlertState> | null;
    if (d?.version !== 1 || typeof d.updatedUTC !== 'string') return undefined;
    if (!isArrayOf(d.problems, ['sensor', 'kind', 'sinceUTC', 'detail']) || !isArrayOf(d.mutes, ['sensor', 'kind', 'untilUTC']) || !isArrayOf(d.outbox, ['type', 'sensor', 'kind', 'text'])) {
      return undefined;
    }
    return d as AlertState;
  } catch {
    return undefined;
  }
}

/** Reads the file; undefined when it does not exist; throws a readable Error when it is damaged. */
export function readAlertStateFile(file: string): AlertState | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read sensor alert state ${file}: ${(err as Error).message}`);
  }
  const state = parseAlertState(text);
  if (!state) throw new Error(`sensor alert state ${file} is damaged or not ours`);
  return state;
}

/** Saves the state off the hot path: writes one after another, the latest state wins. */
export class AlertStateFile {
  private writing: Promise<void> = Promise.resolve();
  private next: string | undefined;
  private failing = false;

  constructor(
    readonly file: string,
    private readonly log: Logger,
  ) {}

  load(now: number): AlertState {
    try {
      return readAlertStateFile(this.file) ?? emptyAlertState(now);
    } catch (err) {
      this.log.warn(`${(err as Error).message}: starting without remembered problems and mutes; it is replaced at the next change`);
      return emptyAlertState(now);
    }
  }

  save(state: AlertState): void {
    const pending = this.next !== undefined;
    this.next = `${JSON.stringify(state, null, 1)}\n`;
    if (pending) return; // the queued write picks up this newer text
    this.writing = this.writing.then(async () => {
      const text = this.next!;
      this.next = undefined;
      try {
        await writeFileAtomic(this.file, text);
        if (this.failing) this.log.info(`sensor alert state ${this.file} written again`);
        this.failing = false;
      } catch (err) {
        if (!this.failing) this.log.error(`cannot write sensor alert state ${this.file}: ${(err as Error).message}; mutes and queued alerts hold only until the listener restarts`);
        this.failing = true;
      }
    });
  }

  /** Resolves once every save() so far is on disk (or has failed). */
  flush(): Promise<void> {
    return this.writing;
  }
}
