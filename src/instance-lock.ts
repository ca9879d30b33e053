// One listener per database: `<db>.lock` next to the database holds the PID of the process that
// writes it, so two scheduled runs (a Windows task started twice, cron plus systemd, a manual
// start beside the service) never write the same database. A lock left by a process that no
// longer exists (crash, power cut, reboot) is taken over. The first line is the bare PID, so
// shell scripts can `kill -0 "$(head -n 1 ECCTempHum.sqlite3.lock)"`.
import { linkSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync, closeSync } from 'node:fs';
import { hostname, uptime } from 'node:os';
import { dirname } from 'node:path';

export class InstanceLockedError extends Error {
  readonly exitCode = 4;
  constructor(
    readonly lockFile: string,
    readonly holder: LockHolder,
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** What a lock file says about the process holding it. */
export interface LockHolder {
  pid: number;
  host?: string;
  /** Identifies one boot of the machine: a PID from an earlier boot is certainly not running. */
  boot?: string;
  startedAt?: string;
}

export type Liveness = 'alive' | 'dead' | 'unknown-host';

export interface InstanceLockOptions {
  /** Overrides for tests: who "we" are and how a PID is checked. */
  pid?: number;
  host?: string;
  boot?: string;
  isAlive?: (pid: number) => boolean;
  now?: () => Date;
}

export function lockFileFor(dbFile: string): string {
  return `${dbFile}.lock`;
}

/**
 * This boot of the machine. Linux has a boot id; elsewhere the boot time rounded to 10 minutes
 * (wall-clock steps after boot, e.g. NTP, shift it a little; a reboot shifts it a lot).
 */
export function currentBoot(): string {
  try {
    const id = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    if (id) return `id:${id}`;
  } catch {
    /* not Linux */
  }
  return `time:${Math.round((Date.now() - uptime() * 1000) / 600_000)}`;
}

function sameBoot(a: string, b: string): boolean {
  if (a === b) return true;
  // Boot times are compared with one step of slack on either side of a rounding edge.
  const ta = /^time:(-?\d+)$/.exec(a);
  const tb = /^time:(-?\d+)$/.exec(b);
  return ta !== null && tb !== null && Math.abs(Number(ta[1]) - Number(tb[1])) <= 1;
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user (e.g. the service user).
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function formatLock(holder: LockHolder): string {
  const lines = [String(holder.pid)];
  if (holder.host !== undefined) lines.push(`host=${holder.host}`);
  if (holder.boot !== undefined) lines.push(`boot=${holder.boot}`);
  if (holder.startedAt !== undefined) lines.push(`started=${holder.startedAt}`);
  return `${lines.join('\n')}\n`;
}

/** Undefined for text that is not a lock file of ours (treated as stale). */
export function parseLock(text: string): LockHolder | undefined {
  const [first, ...rest] = text.split(/\r?\n/);
  if (!first || !/^\d+$/.test(first.trim())) return undefined;
  const pid = Number(first.trim());
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  const holder: LockHolder = { pid };
  for (const line of rest) {
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (key === 'host') holder.host = value;
    else if (key === 'boot') holder.boot = value;
    else if (key === 'started') holder.startedAt = value;
  }
  return holder;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}

/** Reads a lock file without taking it: who holds the database, and whether that process runs. */
export function inspectLock(
  lockFile: string,
  options: InstanceLockOptions = {},
): { holder: LockHolder; liveness: Liveness } | undefined {
  const text = readText(lockFile);
  if (text === undefined) return undefined;
  const holder = parseLock(text);
  if (!holder) return undefined;
  return { holder, liveness: judge(holder, options) };
}

function judge(holder: LockHolder, options: InstanceLockOptions): Liveness {
  const host = options.host ?? hostname();
  // A lock written on another machine (database on a network share): its PID means nothing here.
  if (holder.host !== undefined && holder.host !== host) return 'unknown-host';
  if (holder.boot !== undefined && !sameBoot(holder.boot, options.boot ?? currentBoot())) return 'dead';
  return (options.isAlive ?? processAlive)(holder.pid) ? 'alive' : 'dead';
}

const MAX_ATTEMPTS = 8;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export class InstanceLock {
  readonly path: string;
  private readonly me: LockHolder;
  private readonly content: string;
  private held = false;

  constructor(
    readonly dbFile: string,
    private readonly options: InstanceLockOptions = {},
  ) {
    this.path = lockFileFor(dbFile);
    this.me = {
      pid: options.pid ?? process.pid,
      host: options.host ?? hostname(),
      boot: options.boot ?? currentBoot(),
      startedAt: (options.now?.() ?? new Date()).toISOString(),
    };
    this.content = formatLock(this.me);
  }

  get isHeld(): boolean {
    return this.held;
  }

  /**
   * Takes the lock or throws InstanceLockedError. When a stale lock was taken over, says whose,
   * for the log.
   */
  acquire(): { tookOver?: string } {
    if (this.held) return {};
    mkdirSync(dirname(this.path), { recursive: true });
    let tookOver: string | undefined;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (this.create()) {
        this.held = true;
        return tookOver ? { tookOver } : {};
      }
      const text = readText(this.path);
      if (text === undefined) continue; // released meanwhile: try again
      if (text === '' && attempt < MAX_ATTEMPTS - 1) {
        // Only the exclusive-create fallback leaves an empty file, for the instant before it writes.
        sleepSync(25);
        continue;
      }
      const holder = parseLock(text);
      if (holder) {
        const liveness = judge(holder, this.options);
        if (liveness === 'alive') {
          throw new InstanceLockedError(
            this.path,
            holder,
            `another instance (pid ${holder.pid}${holder.startedAt ? `, started ${holder.startedAt}` : ''}) is already writing ${this.dbFile}; ` +
              `not starting a second one (lock file ${this.path})`,
          );
        }
        if (liveness === 'unknown-host') {
          throw new InstanceLockedError(
            this.path,
            holder,
            `${this.dbFile} is locked by pid ${holder.pid} on host ${holder.host}; not starting a second one. ` +
              `If no listener runs there any more, delete ${this.path}`,
          );
        }
      }
      // Stale (dead PID, earlier boot, or not a lock file of ours): move it aside atomically, and
      // make sure what we moved is the stale lock we judged, not a fresh one another starter
      // put there in the meantime.
      const aside = `${this.path}.stale-${this.me.pid}`;
      try {
        renameSync(this.path, aside);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      const moved = readText(aside);
      if (moved !== text) {
        try {
          linkSync(aside, this.path); // put the other starter's lock back
        } catch {
          /* a third one took the place: it is judged on the next round */
        }
        unlinkQuietly(aside);
        continue;
      }
      unlinkQuietly(aside);
      tookOver = holder
        ? `stale lock of pid ${holder.pid}${holder.startedAt ? ` (started ${holder.startedAt})` : ''}, which no longer runs`
        : 'an unreadable lock file';
    }
    throw new Error(`could not take the lock ${this.path}: other processes keep changing it`);
  }

  /** Removes the lock if it is still ours. Idempotent; safe in an 'exit' handler (synchronous). */
  release(): void {
    if (!this.held) return;
    this.held = false;
    try {
      if (readText(this.path) === this.content) unlinkSync(this.path);
    } catch {
      /* nothing to clean up */
    }
  }

  /** Creates the lock file with its whole content in one step; false if it already exists. */
  private create(): boolean {
    // Written aside, then hard-linked into place: nobody ever sees a half-written lock file.
    const tmp = `${this.path}.${this.me.pid}.tmp`;
    writeFileSync(tmp, this.content);
    try {
      linkSync(tmp, this.path);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      // File systems without hard links (FAT, some network shares): exclusive create instead.
      if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS' || code === 'EXDEV') return this.createExclusive();
      throw err;
    } finally {
      unlinkQuietly(tmp);
    }
  }

  private createExclusive(): boolean {
    let fd: number;
    try {
      fd = openSync(this.path, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
    try {
      writeFileSync(fd, this.content);
    } finally {
      closeSync(fd);
    }
    return true;
  }
}
