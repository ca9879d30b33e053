// LogRotator: one log file, appended to synchronously, rotated by size (-z) or by UTC day/hour,
// with the rotated file gzipped in the background (zlib on libuv's thread pool) and at most -a
// archives kept. Written here rather than taken from winston-daily-rotate-file or winston's File
// transport because both lose lines around a rotation and neither zips/prunes reliably across
// restarts (see shared/pitfalls.md); this one is small enough to test under a steady stream and
// across restarts.
//
// Files, for a log `app.log`:
//   app.log                        the live file
//   app.log.1.gz … app.log.<a>.gz  size rotation: newest first (the original's v02.20 scheme)
//   app.log.2026-11-23[-2].gz      daily rotation (UTC); hourly: app.log.2026-11-23T14[-2].gz
//   app.log.rotated-<time>[-2]     size rotation: rotated, not yet (or not successfully) gzipped
//   app.log.2026-11-23[-2]         daily/hourly: rotated, not yet gzipped
//   app.log.gz.partial             the gzip being written (deleted at start-up if left by a crash)
//
// A rotated file is deleted only after its .gz has been written, synced and read back. A failed
// gzip keeps it under its pending name; the next rotation (or start-up) retries, oldest first, so
// the numbering stays in time order.
import { closeSync, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { errorText, exists, isFile } from '../files.js';
import { gzipFileVerified } from '../gzip.js';

export type RotationSchedule = 'size' | 'daily' | 'hourly';
export type RotatorEventLevel = 'error' | 'warn' | 'info' | 'debug';

export interface LogRotatorOptions {
  file: string;
  /** Bytes; a line that would take the file past this starts a new file (a longer single line is kept whole). */
  maxSize: number;
  /** Archives kept (.gz); older ones are deleted. Uncompressed pending files are never deleted. */
  maxArchives: number;
  /** 'size' (default): rotate on size only; 'daily'/'hourly': also at each UTC day/hour. */
  schedule?: RotationSchedule;
  now?: () => number;
  /** Rotation news (rotated, archived, failed). Called outside write(), never re-entrantly. */
  onEvent?: (level: RotatorEventLevel, message: string) => void;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function periodKey(ms: number, schedule: RotationSchedule): string {
  const iso = new Date(ms).toISOString();
  return schedule === 'hourly' ? iso.slice(0, 13) : iso.slice(0, 10);
}

/** A time stamp usable in a file name on every OS (no colons), sortable as text. */
function fileStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/:/g, '-');
}

class Aborted extends Error {}

export class LogRotator {
  private fd: number | undefined;
  private bytes = 0;
  private period = '';
  private work: Promise<void> = Promise.resolve();
  private passQueued = false;
  private readonly abort = new AbortController();
  private started = false;
  private stopped = false;
  private lastWriteError = '';
  private readonly dir: string;
  private readonly base: string;
  private readonly schedule: RotationSchedule;
  private readonly now: () => number;
  /** Rotations and archives since start, for status and tests. */
  readonly stats = { rotations: 0, archived: 0, failedGzips: 0 };

  constructor(private readonly options: LogRotatorOptions) {
    this.dir = dirname(options.file);
    this.base = basename(options.file);
    this.schedule = options.schedule ?? 'size';
    this.now = options.now ?? Date.now;
  }

  get file(): string {
    return this.options.file;
  }

  /** Opens (or creates) the log file; fixing up what a previous run left happens in the background. */
  start(): void {
    if (this.started) return;
    this.started = true;
    mkdirSync(this.dir, { recursive: true });
    this.openLive();
    this.queuePass(true);
  }

  /**
   * Appends text (whole lines) to the live file, rotating first when this text would take it past
   * the size or it belongs to a new day/hour. Synchronous: a line is in the file (OS cache) when
   * this returns, so nothing is lost when the process exits right after a crash is logged.
   */
  write(text: string): void {
    if (this.stopped || !this.started) return;
    if (this.fd === undefined && !this.tryOpenLive()) return;
    const data = Buffer.from(text, 'utf8');
    if (this.bytes > 0) {
      if (this.schedule !== 'size' && periodKey(this.now(), this.schedule) !== this.period) this.rotate('new period');
      else if (this.bytes + data.length > this.options.maxSize) this.rotate('size');
    }
    if (this.fd === undefined) return;
    let offset = 0;
    try {
      while (offset < data.length) offset += writeSync(this.fd, data, offset, data.length - offset);
      this.lastWriteError = '';
    } catch (err) {
      // The log cannot log its own failure: say it once on stderr and keep the daemon running.
      const text = errorText(err);
      if (text !== this.lastWriteError) process.stderr.write(`cannot write log file ${this.options.file}: ${text}\n`);
      this.lastWriteError = text;
    }
    this.bytes += offset;
  }

  /** Resolves when no archive pass is running or queued (tests, shutdown). */
  async whenIdle(): Promise<void> {
    for (let i = 0; i < 10_000; i++) {
      const w = this.work;
      await w;
      if (w === this.work) return;
    }
  }

  /**
   * Closes the file. A gzip in progress is interrupted; its rotated file stays under its pending
   * name and is compressed at the next start. Safe to call more than once.
   */
  async stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      this.abort.abort();
    }
    await this.work;
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch {
        /* already closed */
      }
      this.fd = undefined;
    }
  }

  private openLive(): void {
    this.fd = openSync(this.options.file, 'a');
    const st = fstatSync(this.fd);
    this.bytes = st.size;
    // A file left by the previous run belongs to the day/hour it was last written in.
    this.period = periodKey(st.size > 0 ? st.mtimeMs : this.now(), this.schedule);
  }

  /**
   * Closes the file and opens it again by name (SIGHUP after an external logrotate moved it away):
   * new lines go to a fresh file at the configured path, and the size (and, for a new file, the
   * period) count from it. The file moved away is left alone: it is not one of our archives.
   */
  reopen(): void {
    if (!this.started || this.stopped) return;
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch {
        /* a broken descriptor is replaced below */
      }
      this.fd = undefined;
    }
    try {
      mkdirSync(this.dir, { recursive: true }); // logrotate may have taken the folder too (olddir)
    } catch {
      /* the open below says why on stderr */
    }
    // A failure is said once on stderr; write() tries again at the next line.
    this.tryOpenLive();
  }

  private tryOpenLive(): boolean {
    try {
      this.openLive();
      return true;
    } catch (err) {
      const text = errorText(err);
      if (text !== this.lastWriteError) process.stderr.write(`cannot open log file ${this.options.file}: ${text}\n`);
      this.lastWriteError = text;
      return false;
    }
  }

  private report(level: RotatorEventLevel, message: string): void {
    const cb = this.options.onEvent;
    // Deferred: a report from inside write() must not re-enter the logger that is calling write().
    if (cb) queueMicrotask(() => cb(level, message));
  }

  private rotate(reason: 'size' | 'new period'): void {
    const pending = this.pendingName();
    const size = this.bytes;
    try {
      closeSync(this.fd!);
    } catch {
      /* a broken descriptor is replaced below */
    }
    this.fd = undefined;
    let renamed = false;
    try {
      renameSync(this.options.file, join(this.dir, pending));
      renamed = true;
    } catch (err) {
      this.report('error', `could not rotate ${this.options.file}: ${errorText(err)}; logging on into it`);
    }
    if (!this.tryOpenLive()) return;
    // After a failed rename the count restarts too, so the next attempt comes after another -z bytes.
    if (!renamed) this.bytes = 0;
    this.period = periodKey(this.now(), this.schedule);
    if (renamed) {
      this.stats.rotations++;
      this.report('info', `rotated ${this.base} (${size} bytes, ${reason}) to ${pending}; compressing it in the background`);
      this.queuePass(false);
    }
  }

  /** A fresh name for the file being rotated now (never one in use, compressed or not). */
  private pendingName(): string {
    const stem = this.schedule === 'size' ? `${this.base}.rotated-${fileStamp(this.now())}` : `${this.base}.${this.period}`;
    for (let k = 1; k < 100_000; k++) {
      const name = k === 1 ? stem : `${stem}-${k}`;
      if (!exists(join(this.dir, name)) && !exists(join(this.dir, `${name}.gz`))) return name;
    }
    throw new Error(`no free name for a rotated ${this.base}`);
  }

  private get partialPath(): string {
    return join(this.dir, `${this.base}.gz.partial`);
  }

  /** Queues one archive pass (start-up fixes first when asked); passes run one at a time. */
  private queuePass(startup: boolean): void {
    if (this.passQueued && !startup) return; // the queued pass picks up every pending file
    this.passQueued = true;
    this.work = this.work.then(async () => {
      this.passQueued = false;
      if (this.stopped) return;
      try {
        if (startup) await this.recover();
        await this.archivePending();
      } catch (err) {
        if (err instanceof Aborted || this.stopped) {
          this.report('debug', 'log compression interrupted by shutdown; it is finished at the next start');
        } else {
          this.report('error', `log archive pass failed: ${errorText(err)}`);
        }
      }
    });
  }

  private listDir(): string[] {
    try {
      return readdirSync(this.dir);
    } catch {
      return [];
    }
  }

  // ---- naming patterns -------------------------------------------------------------------

  private numberedRe(): RegExp {
    return new RegExp(`^${escapeRegExp(this.base)}\\.(\\d+)(\\.gz)?$`);
  }

  private rotatedRe(): RegExp {
    return new RegExp(`^${escapeRegExp(this.base)}\\.rotated-([0-9TZ.-]+)(\\.gz)?$`);
  }

  private periodRe(): RegExp {
    const period = this.schedule === 'hourly' ? '\\d{4}-\\d{2}-\\d{2}T\\d{2}' : '\\d{4}-\\d{2}-\\d{2}';
    return new RegExp(`^${escapeRegExp(this.base)}\\.(${period})(?:-(\\d+))?(\\.gz)?$`);
  }

  /** Numbered archives (.n.gz), ascending by n. */
  private numberedArchives(): Array<{ n: number; name: string }> {
    const re = this.numberedRe();
    const out: Array<{ n: number; name: string }> = [];
    for (const name of this.listDir()) {
      const m = re.exec(name);
      if (m && m[2] === '.gz' && Number(m[1]) >= 1) out.push({ n: Number(m[1]), name });
    }
    return out.sort((a, b) => a.n - b.n);
  }

  // ---- start-up: what a previous run (or the original listener) left behind ----------------

  private async recover(): Promise<void> {
    if (isFile(this.partialPath)) unlinkSync(this.partialPath);
    const names = new Set(this.listDir());
    // A pending file whose .gz exists was compressed and verified; only its deletion was missed.
    const pendingRe = this.schedule === 'size' ? this.rotatedRe() : this.periodRe();
    for (const name of names) {
      if (pendingRe.test(name) && !name.endsWith('.gz') && names.has(`${name}.gz`) && isFile(join(this.dir, name))) {
        unlinkSync(join(this.dir, name));
        this.report('info', `removed ${name}: its archive ${name}.gz is complete`);
      }
    }
    if (this.schedule !== 'size') {
      this.prunePeriodArchives();
      return;
    }
    // Stray uncompressed numbered files (a crash of an earlier rotator, e.g. the original's):
    // compressed in place, or queued as the newest rotated file when their .gz slot is taken.
    const numbered = this.numberedRe();
    for (const name of this.listDir()) {
      const m = numbered.exec(name);
      if (!m || m[2] === '.gz' || !isFile(join(this.dir, name))) continue;
      const gz = `${name}.gz`;
      if (exists(join(this.dir, gz))) {
        const stamp = fileStamp(lstatSync(join(this.dir, name)).mtimeMs);
        let target = `${this.base}.rotated-${stamp}`;
        for (let k = 2; exists(join(this.dir, target)) || exists(join(this.dir, `${target}.gz`)); k++) {
          target = `${this.base}.rotated-${stamp}-${k}`;
        }
        renameSync(join(this.dir, name), join(this.dir, target));
        continue;
      }
      try {
        await this.compress(name, gz);
        this.report('info', `compressed ${name}, left uncompressed by an earlier run, to ${gz}`);
      } catch (err) {
        if (this.stopped) throw new Aborted();
        this.stats.failedGzips++;
        this.report('error', `could not compress ${name}: ${errorText(err)}; it is kept and retried at the next start`);
      }
    }
    this.compactNumbered();
  }

  /** Renumbers .n.gz archives to 1..k (gaps left by a crash mid-shift), dropping those beyond -a. */
  private compactNumbered(): void {
    this.numberedArchives().forEach((a, i) => {
      const want = i + 1;
      const path = join(this.dir, a.name);
      if (want > this.options.maxArchives) {
        unlinkSync(path);
        this.report('debug', `deleted ${a.name} (more than ${this.options.maxArchives} archives)`);
      } else if (want !== a.n) {
        renameSync(path, join(this.dir, `${this.base}.${want}.gz`));
      }
    });
  }

  // ---- the archive pass ---------------------------------------------------------------------

  private async archivePending(): Promise<void> {
    if (this.schedule === 'size') await this.archiveRotated();
    else await this.archivePeriods();
  }

  /** gzip `source` into the partial file, move that to `target`, then delete `source`. */
  private async compress(source: string, target: string): Promise<void> {
    const partial = this.partialPath;
    try {
      await gzipFileVerified(join(this.dir, source), partial, this.abort.signal);
      if (exists(join(this.dir, target))) throw new Error(`${target} already exists`);
      renameSync(partial, join(this.dir, target));
    } catch (err) {
      if (isFile(partial)) {
        try {
          unlinkSync(partial);
        } catch {
          /* removed at the next start */
        }
      }
      throw err;
    }
    unlinkSync(join(this.dir, source));
    this.stats.archived++;
  }

  /** Size mode: oldest pending first, each becomes .1.gz after the others shift up. */
  private async archiveRotated(): Promise<void> {
    const re = this.rotatedRe();
    const stamps = new Map<string, { plain: boolean; gz: boolean }>();
    for (const name of this.listDir()) {
      const m = re.exec(name);
      if (!m) continue;
      const s = stamps.get(m[1]!) ?? { plain: false, gz: false };
      if (m[2]) s.gz = true;
      else s.plain = true;
      stamps.set(m[1]!, s);
    }
    for (const stamp of [...stamps.keys()].sort()) {
      if (this.stopped) throw new Aborted();
      const name = `${this.base}.rotated-${stamp}`;
      const state = stamps.get(stamp)!;
      if (!state.gz) {
        // On failure stop here: numbering a newer file first would put the archives out of order.
        if (!(await this.compressOrKeep(name))) return;
      } else if (state.plain && isFile(join(this.dir, name))) {
        unlinkSync(join(this.dir, name)); // its .gz is complete (crash between rename and delete)
      }
      this.shiftNumbered();
      renameSync(join(this.dir, `${name}.gz`), join(this.dir, `${this.base}.1.gz`));
      this.report('debug', `archived ${name} as ${this.base}.1.gz`);
    }
  }

  /** Moves .n.gz to .n+1.gz (highest first), deleting what would go beyond -a. */
  private shiftNumbered(): void {
    for (const a of this.numberedArchives().reverse()) {
      const path = join(this.dir, a.name);
      if (a.n + 1 > this.options.maxArchives) {
        unlinkSync(path);
        this.report('debug', `deleted ${a.name} (more than ${this.options.maxArchives} archives)`);
      } else {
        renameSync(path, join(this.dir, `${this.base}.${a.n + 1}.gz`));
      }
    }
  }

  /** Daily/hourly mode: every pending file gets its .gz, then only the newest -a are kept. */
  private async archivePeriods(): Promise<void> {
    const re = this.periodRe();
    const names = this.listDir().sort();
    const have = new Set(names);
    for (const name of names) {
      if (this.stopped) throw new Aborted();
      const m = re.exec(name);
      if (!m || m[3] || have.has(`${name}.gz`) || !isFile(join(this.dir, name))) continue;
      if (!(await this.compressOrKeep(name))) return;
    }
    this.prunePeriodArchives();
  }

  /** Gzips a rotated file to name.gz; false (logged, counted, file kept for the next rotation) when that fails. */
  private async compressOrKeep(name: string): Promise<boolean> {
    try {
      await this.compress(name, `${name}.gz`);
      return true;
    } catch (err) {
      if (this.stopped) throw new Aborted();
      this.stats.failedGzips++;
      this.report('error', `could not compress ${name}: ${errorText(err)}; it is kept uncompressed and retried at the next rotation`);
      return false;
    }
  }

  private prunePeriodArchives(): void {
    const re = this.periodRe();
    const archives: Array<{ name: string; period: string; k: number }> = [];
    for (const name of this.listDir()) {
      const m = re.exec(name);
      if (m && m[3]) archives.push({ name, period: m[1]!, k: Number(m[2] ?? 1) });
    }
    // Newest first: later period, then higher -k within a period.
    archives.sort((a, b) => (a.period < b.period ? 1 : a.period > b.period ? -1 : b.k - a.k));
    for (const a of archives.slice(this.options.maxArchives)) {
      unlinkSync(join(this.dir, a.name));
      this.report('debug', `deleted ${a.name} (more than ${this.options.maxArchives} archives)`);
    }
  }
}
