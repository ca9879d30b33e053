// Log rotation through the real logger and real files: archive order, gzip contents, no line
// lost under a steady stream, failed gzip keeps the rotated file, numbering across restarts,
// daily rotation, reopening after an external logrotate moved the file (SIGHUP).
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { createAppLogger, type AppLogger, type AppLoggerOptions } from '../src/logging/logger.js';
import { tempDir } from './helpers/util.js';

const LINE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z (ERROR|WARN|INFO|DEBUG) \[[a-z]+\] .+$/;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function open(options: Partial<AppLoggerOptions> & { file: string }): AppLogger {
  const logger = createAppLogger({ level: 'debug', console: false, ...options });
  cleanups.push(() => logger.close());
  return logger;
}

function gunzipLines(path: string): string[] {
  return gunzipSync(readFileSync(path)).toString('utf8').split('\n').filter((l) => l !== '');
}

function plainLines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l !== '');
}

/** The numbers of our own test lines ("[test] line 000042 ...") in a list of log lines. */
function numbers(lines: string[]): number[] {
  return lines.flatMap((l) => {
    const m = / \[test\] line (\d+) /.exec(l);
    return m ? [Number(m[1])] : [];
  });
}

const filler = 'x'.repeat(60);

describe('size-based log rotation', () => {
  it('keeps newest .1.gz … oldest .a.gz, each gunzipping to whole log lines, and deletes the rest', async () => {
    const dir = tempDir();
    const file = join(dir, 'app.log');
    const logger = open({ file, maxSize: 2048, maxArchives: 3 });
    const log = logger.child('test');
    for (let i = 0; i < 200; i++) log.info(`line ${String(i).padStart(6, '0')} ${filler}`);
    await logger.rotator.whenIdle();
    expect(logger.rotator.stats.rotations).toBeGreaterThanOrEqual(5);

    const names = readdirSync(dir).sort();
    expect(names).toEqual(['app.log', 'app.log.1.gz', 'app.log.2.gz', 'app.log.3.gz']);
    const archives = [3, 2, 1].map((n) => gunzipLines(join(dir, `app.log.${n}.gz`)));
    for (const lines of archives) {
      expect(lines.length).toBeGreaterThan(0);
      for (const l of lines) expect(l).toMatch(LINE);
    }
    // Oldest to newest: .3, .2, .1, live; together a gapless run ending with the last line.
    const seq = [...archives.flatMap(numbers), ...numbers(plainLines(file))];
    expect(seq.at(-1)).toBe(199);
    expect(seq).toEqual(Array.from({ length: seq.length }, (_, k) => seq[0]! + k));
    for (const lines of archives) expect(Buffer.byteLength(`${lines.join('\n')}\n`)).toBeLessThanOrEqual(2048);
  });

  it('loses no line and keeps their order across 5+ rotations under a steady stream of writes', async () => {
    const dir = tempDir();
    const file = join(dir, 'app.log');
    const logger = open({ file, maxSize: 6000, maxArchives: 50 });
    const log = logger.child('test');
    const total = 800;
    for (let i = 0; i < total; i++) {
      log.info(`line ${String(i).padStart(6, '0')} ${filler}`);
      // Let the background gzip run between writes, as it does in the daemon.
      if (i % 10 === 9) await new Promise((r) => setImmediate(r));
    }
    await logger.rotator.whenIdle();
    const rotations = logger.rotator.stats.rotations;
    expect(rotations).toBeGreaterThanOrEqual(5);
    expect(logger.rotator.stats.failedGzips).toBe(0);
    const gz = readdirSync(dir).filter((n) => /^app\.log\.\d+\.gz$/.test(n));
    expect(gz).toHaveLength(rotations);
    expect(readdirSync(dir).filter((n) => n.includes('rotated') || n.includes('partial'))).toEqual([]);
    const seq: number[] = [];
    for (let n = rotations; n >= 1; n--) seq.push(...numbers(gunzipLines(join(dir, `app.log.${n}.gz`))));
    seq.push(...numbers(plainLines(file)));
    expect(seq).toEqual(Array.from({ length: total }, (_, k) => k));
  });

  it('keeps the rotated file when gzip fails, logs the error, and compresses it at the next rotation', async () => {
    const dir = tempDir();
    const file = join(dir, 'app.log');
    // Tests run as root, so a read-only folder would not stop the write: a directory where the
    // gzip output has to go makes it fail for real.
    mkdirSync(`${file}.gz.partial`);
    const logger = open({ file, maxSize: 2048, maxArchives: 9 });
    const log = logger.child('test');
    let i = 0;
    while (logger.rotator.stats.rotations < 1) log.info(`line ${String(i++).padStart(6, '0')} ${filler}`);
    await logger.rotator.whenIdle();
    const firstBatch = i;

    expect(logger.rotator.stats.failedGzips).toBe(1);
    const pending = readdirSync(dir).filter((n) => n.startsWith('app.log.rotated-'));
    expect(pending).toHaveLength(1);
    expect(existsSync(join(dir, 'app.log.1.gz'))).toBe(false);
    const kept = numbers(plainLines(join(dir, pending[0]!)));
    expect(kept[0]).toBe(0);
    expect(plainLines(file).some((l) => / ERROR \[rotate\] could not compress app\.log\.rotated-.*kept uncompressed/.test(l))).toBe(true);

    rmdirSync(`${file}.gz.partial`);
    while (logger.rotator.stats.rotations < 2) log.info(`line ${String(i++).padStart(6, '0')} ${filler}`);
    await logger.rotator.whenIdle();
    expect(readdirSync(dir).filter((n) => n.startsWith('app.log.rotated-'))).toEqual([]);
    const older = numbers(gunzipLines(join(dir, 'app.log.2.gz')));
    const newer = numbers(gunzipLines(join(dir, 'app.log.1.gz')));
    expect(older).toEqual(kept);
    expect([...older, ...newer, ...numbers(plainLines(file))]).toEqual(Array.from({ length: i }, (_, k) => k));
    expect(firstBatch).toBeGreaterThan(0);
  });

  it('numbers archives correctly after a restart and compresses what a crash left uncompressed', async () => {
    const dir = tempDir();
    const file = join(dir, 'app.log');
    let i = 0;
    const first = open({ file, maxSize: 1024, maxArchives: 4 });
    const log1 = first.child('test');
    while (first.rotator.stats.rotations < 2) log1.info(`line ${String(i++).padStart(6, '0')} ${filler}`);
    await first.rotator.whenIdle();
    await first.close();
    const was1 = numbers(gunzipLines(join(dir, 'app.log.1.gz')));
    const was2 = numbers(gunzipLines(join(dir, 'app.log.2.gz')));
    expect(was2.at(-1)! < was1[0]!).toBe(true);

    // What a crash can leave: a rotated file not yet gzipped, a half-written gzip, and a gap in
    // the numbering (killed in the middle of shifting .2 to .3).
    const strayStamp = new Date().toISOString().replace(/:/g, '-');
    writeFileSync(join(dir, `app.log.rotated-${strayStamp}`), '2026-11-23T10:00:00.000Z INFO [test] line 999999 stray\n');
    writeFileSync(join(dir, 'app.log.gz.partial'), 'half a gzip');
    const { renameSync } = await import('node:fs');
    renameSync(join(dir, 'app.log.2.gz'), join(dir, 'app.log.3.gz'));

    const second = open({ file, maxSize: 1024, maxArchives: 4 });
    await second.rotator.whenIdle();
    expect(readdirSync(dir).sort()).toEqual(['app.log', 'app.log.1.gz', 'app.log.2.gz', 'app.log.3.gz']);
    expect(numbers(gunzipLines(join(dir, 'app.log.1.gz')))).toEqual([999999]);
    expect(numbers(gunzipLines(join(dir, 'app.log.2.gz')))).toEqual(was1);
    expect(numbers(gunzipLines(join(dir, 'app.log.3.gz')))).toEqual(was2);

    // Two more rotations: the new archive is .1, the others shift, and only -a (4) are kept.
    const log2 = second.child('test');
    const liveBefore = numbers(plainLines(file));
    while (second.rotator.stats.rotations < 2) log2.info(`line ${String(i++).padStart(6, '0')} ${filler}`);
    await second.rotator.whenIdle();
    expect(readdirSync(dir).sort()).toEqual(['app.log', 'app.log.1.gz', 'app.log.2.gz', 'app.log.3.gz', 'app.log.4.gz']);
    expect(numbers(gunzipLines(join(dir, 'app.log.3.gz')))).toEqual([999999]);
    expect(numbers(gunzipLines(join(dir, 'app.log.4.gz')))).toEqual(was1);
    expect(numbers(gunzipLines(join(dir, 'app.log.2.gz')))[0]).toBe(liveBefore[0]);
  });

  it('finishes at the next start what a shutdown interrupted, losing no line', async () => {
    const dir = tempDir();
    const file = join(dir, 'app.log');
    const first = open({ file, maxSize: 2048, maxArchives: 20 });
    const log1 = first.child('test');
    let i = 0;
    while (first.rotator.stats.rotations < 4) log1.info(`line ${String(i++).padStart(6, '0')} ${filler}`);
    await first.close(); // at once: the background gzip is cut short wherever it is
    const second = open({ file, maxSize: 2048, maxArchives: 20 });
    await second.rotator.whenIdle();
    const names = readdirSync(dir);
    expect(names.filter((n) => n.includes('rotated') || n.includes('partial'))).toEqual([]);
    const seq: number[] = [];
    for (let n = 4; n >= 1; n--) seq.push(...numbers(gunzipLines(join(dir, `app.log.${n}.gz`))));
    seq.push(...numbers(plainLines(file)));
    expect(seq).toEqual(Array.from({ length: i }, (_, k) => k));
  });

  it("compresses the original listener's uncompressed <log>.1 left by a crash into <log>.1.gz", async () => {
    const dir = tempDir();
    const file = join(dir, 'ECCMQTTIoT.log');
    writeFileSync(join(dir, 'ECCMQTTIoT.log.1'), 'old line from the original\n');
    const logger = open({ file, maxSize: 4096, maxArchives: 9 });
    await logger.rotator.whenIdle();
    expect(readdirSync(dir).sort()).toEqual(['ECCMQTTIoT.log', 'ECCMQTTIoT.log.1.gz']);
    expect(gunzipSync(readFileSync(join(dir, 'ECCMQTTIoT.log.1.gz'))).toString()).toBe('old line from the original\n');
  });
});

describe('time-based log rotation (--log-rotate daily)', () => {
  it('starts a file per UTC day, gzips the old one as <log>.YYYY-MM-DD.gz and keeps -a of them', async () => {
    const dir = tempDir();
    const file = join(dir, 'app.log');
    let now = Date.UTC(2026, 10, 20, 12, 0, 0);
    const logger = open({ file, maxSize: 1_000_000, maxArchives: 2, schedule: 'daily', now: () => now });
    const log = logger.child('test');
    let i = 0;
    for (let day = 0; day < 4; day++) {
      for (let k = 0; k < 3; k++) log.info(`line ${String(i++).padStart(6, '0')} day ${day}`);
      await logger.rotator.whenIdle();
      now += 24 * 3600 * 1000;
    }
    await logger.rotator.whenIdle();
    expect(readdirSync(dir).sort()).toEqual(['app.log', 'app.log.2026-11-21.gz', 'app.log.2026-11-22.gz']);
    expect(numbers(gunzipLines(join(dir, 'app.log.2026-11-21.gz')))).toEqual([3, 4, 5]);
    expect(numbers(gunzipLines(join(dir, 'app.log.2026-11-22.gz')))).toEqual([6, 7, 8]);
    expect(numbers(plainLines(file))).toEqual([9, 10, 11]);
  });

  it('hourly: <log>.YYYY-MM-DDTHH.gz per UTC hour, another file in the same hour gets -2', async () => {
    const dir = tempDir();
    const file = join(dir, 'app.log');
    let now = Date.UTC(2026, 10, 23, 13, 59, 0);
    // Each line is 110 bytes: three fit in 400, the fourth starts a new file.
    const logger = open({ file, maxSize: 400, maxArchives: 9, schedule: 'hourly', now: () => now });
    const log = logger.child('test');
    log.info(`line 000000 ${filler}`);
    now += 2 * 60 * 1000; // 14:01: a new hour
    for (let i = 1; i <= 7; i++) log.info(`line ${String(i).padStart(6, '0')} ${filler}`);
    await logger.rotator.whenIdle();
    const names = readdirSync(dir).sort();
    // The rotation notices are logged too (after the lines that caused them), so with a 400-byte
    // limit they can start one more 14:xx file: -3 and on.
    for (const n of names) expect(n).toMatch(/^app\.log(\.2026-11-23T1[34](-\d+)?\.gz)?$/);
    expect(names).toEqual(expect.arrayContaining(['app.log.2026-11-23T13.gz', 'app.log.2026-11-23T14.gz', 'app.log.2026-11-23T14-2.gz']));
    expect(numbers(gunzipLines(join(dir, 'app.log.2026-11-23T13.gz')))).toEqual([0]);
    expect(numbers(gunzipLines(join(dir, 'app.log.2026-11-23T14.gz')))).toEqual([1, 2, 3]);
    expect(numbers(gunzipLines(join(dir, 'app.log.2026-11-23T14-2.gz')))).toEqual([4, 5, 6]);
    const later = names.filter((n) => /T14-([3-9]|\d\d+)\.gz$/.test(n)).sort((a, b) => Number(/-(\d+)\.gz$/.exec(a)![1]) - Number(/-(\d+)\.gz$/.exec(b)![1]));
    expect([...later.flatMap((n) => numbers(gunzipLines(join(dir, n)))), ...numbers(plainLines(file))]).toEqual([7]);
  });
});

describe('reopen (SIGHUP after an external logrotate)', () => {
  it('writes on in a fresh file at the path; the moved file keeps the earlier lines; the size counts from the new file', async () => {
    const dir = tempDir();
    const file = join(dir, 'app.log');
    const logger = open({ file, maxSize: 1000 });
    const log = logger.child('test');
    for (let i = 0; i < 8; i++) log.info(`line ${String(i).padStart(6, '0')} ${filler}`); // ~800 bytes
    renameSync(file, join(dir, 'app.log-20261123')); // logrotate with dateext
    logger.reopen();
    // Without the reopen these would go to the moved file, and the old size would force a rotation.
    for (let i = 8; i < 16; i++) log.info(`line ${String(i).padStart(6, '0')} ${filler}`);
    await logger.rotator.whenIdle();

    expect(numbers(plainLines(join(dir, 'app.log-20261123')))).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(numbers(plainLines(file))).toEqual([8, 9, 10, 11, 12, 13, 14, 15]);
    expect(logger.rotator.stats.rotations).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['app.log', 'app.log-20261123']);
  });

  it('recreates a folder that was taken away too', async () => {
    const dir = tempDir();
    const logs = join(dir, 'logs');
    const file = join(logs, 'app.log');
    const logger = open({ file });
    logger.child('test').info('line 000001 before');
    renameSync(logs, join(dir, 'old-logs'));
    logger.reopen();
    logger.child('test').info('line 000002 after');
    expect(numbers(plainLines(join(dir, 'old-logs', 'app.log')))).toEqual([1]);
    expect(numbers(plainLines(file))).toEqual([2]);
  });
});
