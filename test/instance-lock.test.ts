// The single-instance lock on its own: who may take `<db>.lock`, and when a lock is stale.
// (test/service.test.ts runs the same lock between real listener processes.)
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InstanceLock, InstanceLockedError, currentBoot, formatLock, inspectLock, lockFileFor, parseLock } from '../src/instance-lock.js';
import { tempDir } from './helpers/util.js';

const dbIn = (dir: string): string => join(dir, 'data', 'ECCTempHum.sqlite3');
/** A lock as another process would have written it; `alive` decides whether that PID "runs". */
function otherLock(db: string, pid: number, extra: Partial<{ host: string; boot: string }> = {}): void {
  mkdirSync(dirname(db), { recursive: true });
  writeFileSync(lockFileFor(db), formatLock({ pid, host: extra.host ?? hostname(), boot: extra.boot ?? currentBoot(), startedAt: '2026-01-01T00:00:00.000Z' }));
}

describe('instance lock', () => {
  it('writes the PID on the first line (plus host, boot and start time) and removes it on release', () => {
    const db = dbIn(tempDir());
    const lock = new InstanceLock(db);
    lock.acquire();
    const text = readFileSync(`${db}.lock`, 'utf8');
    expect(text.split('\n')[0]).toBe(String(process.pid));
    expect(parseLock(text)).toMatchObject({ pid: process.pid, host: hostname(), boot: currentBoot() });
    lock.release();
    lock.release();
    expect(existsSync(`${db}.lock`)).toBe(false);
  });

  it('refuses while the holder runs, naming its PID and the lock file', () => {
    const db = dbIn(tempDir());
    otherLock(db, 4242);
    const lock = new InstanceLock(db, { isAlive: (pid) => pid === 4242 });
    let error: unknown;
    try {
      lock.acquire();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InstanceLockedError);
    const e = error as InstanceLockedError;
    expect(e.exitCode).toBe(4);
    expect(e.message).toMatch(/another instance \(pid 4242, started 2026-01-01T00:00:00.000Z\) is already writing/);
    expect(e.message).toContain(`${db}.lock`);
    expect(readFileSync(`${db}.lock`, 'utf8').split('\n')[0]).toBe('4242'); // untouched
  });

  it('two locks in one process: the second is refused', () => {
    const db = dbIn(tempDir());
    const first = new InstanceLock(db);
    first.acquire();
    expect(() => new InstanceLock(db).acquire()).toThrow(InstanceLockedError);
    first.release();
    const again = new InstanceLock(db);
    again.acquire();
    again.release();
  });

  it.each([
    ['a PID that no longer runs', { pid: 4242, alive: false }],
    ['a PID from an earlier boot (it may have been reused since)', { pid: 4242, alive: true, boot: 'id:0000-earlier-boot' }],
  ])('takes over the lock of %s', (_what, c) => {
    const db = dbIn(tempDir());
    otherLock(db, c.pid, c.boot ? { boot: c.boot } : {});
    const lock = new InstanceLock(db, { isAlive: () => c.alive });
    const r = lock.acquire();
    expect(r.tookOver).toMatch(/stale lock of pid 4242/);
    expect(parseLock(readFileSync(`${db}.lock`, 'utf8'))?.pid).toBe(process.pid);
    lock.release();
  });

  it('takes over a file that is not a lock of ours', () => {
    const db = dbIn(tempDir());
    mkdirSync(dirname(db), { recursive: true });
    writeFileSync(`${db}.lock`, 'garbage\n');
    const lock = new InstanceLock(db, { pid: 77 });
    expect(lock.acquire().tookOver).toBe('an unreadable lock file');
    expect(readFileSync(`${db}.lock`, 'utf8').split('\n')[0]).toBe('77');
  });

  it('does not take over a lock written on another host (database on a shared drive)', () => {
    const db = dbIn(tempDir());
    otherLock(db, 4242, { host: 'other-pc' });
    expect(() => new InstanceLock(db, { isAlive: () => false }).acquire()).toThrow(/locked by pid 4242 on host other-pc.*delete/);
    expect(inspectLock(`${db}.lock`)?.liveness).toBe('unknown-host');
  });

  it('release leaves a lock alone that is no longer ours', () => {
    const db = dbIn(tempDir());
    const lock = new InstanceLock(db);
    lock.acquire();
    otherLock(db, 4242); // e.g. removed by hand and another instance started
    lock.release();
    expect(readFileSync(`${db}.lock`, 'utf8').split('\n')[0]).toBe('4242');
  });

  it('after a crash, the first starter takes the stale lock over and later ones are refused', () => {
    const db = dbIn(tempDir());
    otherLock(db, 4242);
    const pids = [101, 102, 103, 104, 105];
    const running = new Set<number>();
    const isAlive = (pid: number): boolean => running.has(pid);
    const won: number[] = [];
    for (const pid of pids) {
      try {
        new InstanceLock(db, { pid, isAlive }).acquire();
        won.push(pid);
        running.add(pid);
      } catch (err) {
        expect(err).toBeInstanceOf(InstanceLockedError);
      }
    }
    expect(won).toEqual([101]);
    expect(readFileSync(`${db}.lock`, 'utf8').split('\n')[0]).toBe('101');
  });
});
