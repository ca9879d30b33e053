// The command line as a user runs it: the real launcher in a child process.
import { spawnSync } from 'node:child_process';
import { writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { rewriteLegacyArgs } from '../src/cli.js';
import { tempDir } from './helpers/util.js';

const BIN = fileURLToPath(new URL('../bin/mqtt-iot-listener.js', import.meta.url));

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...process.env, MQTT_USERNAME: '', MQTT_PASSWORD: '', ...env },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('command line', () => {
  it('-v, -ver and --version print name, version and release date', () => {
    for (const flag of ['-v', '-ver', '--version']) {
      const r = cli([flag]);
      expect(r.code).toBe(0);
      expect(r.out.trim()).toMatch(/^mqtt-iot-listener \d+\.\d+\.\d+ \(\d{4}-\d{2}-\d{2}\)$/);
    }
  });

  it('--help lists the original flags, their legacy spellings and the exit codes', () => {
    const r = cli(['--help']);
    expect(r.code).toBe(0);
    for (const s of ['--log_file_path', '-db', '--timer_check', '--archive_log_size', '--embedded-broker', 'Exit codes']) {
      expect(r.out).toContain(s);
    }
  });

  it('accepts an old scheduled-task command line unchanged (legacy spellings, numbers as numbers)', () => {
    const dir = tempDir();
    const r = cli([
      '-db', join(dir, 'x.sqlite3'), '-log', join(dir, 'y.log'), '--mqtt_broker', 'localhost', '-t', '0.5',
      '-z', '1e6', '--max_log_archives=4', '-s', '60', 'check-config',
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const cfg = JSON.parse(r.out);
    expect(cfg).toMatchObject({
      dbFile: join(dir, 'x.sqlite3'),
      logFile: join(dir, 'y.log'),
      broker: 'localhost',
      timerCheckMinutes: 0.5,
      archiveLogSize: 1_000_000,
      maxLogArchives: 4,
      silenceMinutes: 60,
      qos: 1,
      cleanSession: false,
    });
  });

  it('rewrites legacy spellings only before a -- terminator', () => {
    expect(rewriteLegacyArgs(['-db', 'a', '--log_file_path=b', '--', '-db'])).toEqual(['--db', 'a', '--log-file=b', '--', '-db']);
  });

  const bad: Array<[string[], RegExp]> = [
    [['-t', 'abc'], /--timer-check.*"abc"/],
    [['-t', '0'], /--timer-check.*"0"/],
    [['-t', '-5'], /--timer-check|-5/],
    [['-z', '12kb'], /--archive-log-size.*"12kb"/],
    [['-a', '2.5'], /--max-log-archives.*"2.5"/],
    [['--port', '70000'], /--port.*"70000"/],
    [['--qos', '3'], /--qos|3/],
    [['--no-such-flag'], /unknown option/],
    [['--log-rotate', 'weekly'], /--log-rotate.*weekly/],
    [['--db-archive-size', '0'], /--db-archive-size.*"0"/],
  ];
  it.each(bad)('bad flag %j exits 2 with one line naming it', (args, line) => {
    const r = cli([...args, 'check-config']);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    const lines = r.err.trim().split('\n');
    expect(lines[0]).toMatch(line);
    expect(r.err).not.toMatch(/\bat .*\.js:\d+/); // no stack trace
  });

  it('a credentials file named explicitly but missing is a config error', () => {
    const r = cli(['-c', '/nonexistent/creds.txt', 'check-config']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/credentials file .*does not exist/);
  });

  it('reads trimmed credentials, masks the password, warns about loose permissions', () => {
    const dir = tempDir();
    const file = join(dir, 'creds.txt');
    writeFileSync(file, '# broker login\n\n  listener , p@ss word \r\n');
    chmodSync(file, 0o644);
    const r = cli(['-c', file, 'check-config']);
    expect(r.code).toBe(0);
    const cfg = JSON.parse(r.out);
    expect(cfg.mqtt).toEqual({ username: 'listener', password: '********', source: 'file' });
    expect(r.out + r.err).not.toContain('p@ss word');
    expect(r.err).toMatch(/readable by other users/);
  });

  it('environment variables override the credentials file', () => {
    const r = cli(['check-config'], { MQTT_USERNAME: 'envuser', MQTT_PASSWORD: 'envpass' });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).mqtt).toEqual({ username: 'envuser', password: '********', source: 'env' });
    expect(r.out).not.toContain('envpass');
  });
});
