// The alert flags and `alert-test` from the command line, against a real SMTP server on 127.0.0.1.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../src/cli.js';
import { startSmtp, type SmtpMode, type TestSmtp } from './helpers/smtp.js';
import { tempDir } from './helpers/util.js';

const BIN = fileURLToPath(new URL('../bin/mqtt-iot-listener.js', import.meta.url));
const FROM = 'alerts@example.org';
const PASSWORD = 'abcdefghijklmnop';

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...process.env, MQTT_USERNAME: '', MQTT_PASSWORD: '' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'mqtt-iot-listener', ...args], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

function mailFile(line: string): string {
  const f = join(tempDir('mailcli-'), 'gmail.txt');
  writeFileSync(f, `${line}\n`, { mode: 0o600 });
  return f;
}

const servers: TestSmtp[] = [];
afterEach(async () => {
  while (servers.length) await servers.pop()!.stop();
});

async function smtp(mode: SmtpMode): Promise<TestSmtp> {
  const s = await startSmtp({ mode, user: FROM, pass: PASSWORD });
  servers.push(s);
  return s;
}

describe('alert flags', () => {
  it('check-config shows the mail settings with the app password masked', () => {
    const f = mailFile(`${FROM},${PASSWORD},None,ops@example.org;boss@example.org`);
    const r = cli(['-m', f, '--smtp-host', 'mail.example.org', '--no-smtp-secure', 'check-config']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const cfg = JSON.parse(r.out);
    expect(cfg).toMatchObject({
      smtpHost: 'mail.example.org',
      smtpPort: 587, // STARTTLS port when not --smtp-secure
      smtpSecure: false,
      smtpInsecure: false,
      mail: { from: FROM, password: '********', to: ['ops@example.org', 'boss@example.org'] },
    });
    expect(r.out).not.toContain(PASSWORD);
    const defaults = JSON.parse(cli(['-m', f, 'check-config']).out);
    expect(defaults).toMatchObject({ smtpHost: 'smtp.gmail.com', smtpPort: 465, smtpSecure: true });
  });

  it.each([
    [['--smtp-port', '0'], /--smtp-port.*"0"/],
    [['--smtp-port', 'smtp'], /--smtp-port.*"smtp"/],
  ])('bad %j exits 2 with one line', (args, line) => {
    const r = cli([...args, 'check-config']);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(line);
  });

  it('a named mail credentials file that does not exist is a warning, not a reason to stop storing readings', () => {
    const r = cli(['-m', '/nonexistent/gmail.txt', 'check-config']);
    expect(r.code).toBe(0);
    expect(r.err.trim()).toBe('warning: mail credentials file /nonexistent/gmail.txt (named by -m) does not exist: alerts will only be logged');
    expect(JSON.parse(r.out).mail).toBeNull();
  });

  it('a malformed mail credentials file exits 2 naming the file and the problem, never the password', () => {
    const f = mailFile(`${PASSWORD},${FROM}`);
    const r = cli(['-m', f, 'check-config']);
    expect(r.code).toBe(2);
    expect(r.err.trim()).toBe(
      `error: mail credentials file ${f}: the from address (field 1) is not an e-mail address; expected "from_address,app_password,local_host_name_or_None,to_address" (or "from_address,app_password")`,
    );
    const g = mailFile(`${FROM},${PASSWORD},host,bob`);
    const r2 = cli(['-m', g, 'check-config']);
    expect(r2.code).toBe(2);
    expect(r2.err).toContain('recipient "bob"');
    expect(r2.err).not.toContain(PASSWORD);
  });
});

describe('alert-test', () => {
  it.each<[SmtpMode, string[]]>([
    ['tls', ['--smtp-insecure']],
    ['starttls', ['--no-smtp-secure', '--smtp-insecure']],
    ['plain', ['--no-smtp-secure']],
  ])('sends one test mail over %s and prints the server answer', async (mode, flags) => {
    const s = await smtp(mode);
    const f = mailFile(`${FROM},${PASSWORD},test-box.example,ops@example.org`);
    const r = await run(['-m', f, '--smtp-host', '127.0.0.1', '--smtp-port', String(s.port), ...flags, 'alert-test']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`sending a test mail from ${FROM} to ops@example.org via 127.0.0.1:${s.port}`);
    expect(r.out).toMatch(/server answered: 250 /);
    expect(r.out).toContain('accepted: ops@example.org');
    expect(s.mails).toHaveLength(1);
    expect(s.mails[0]!.subject).toMatch(/^\[mqtt-iot-listener\] .+: test alert$/);
    expect(s.mails[0]!.ehlo).toBe('test-box.example');
    expect(s.mails[0]!.secure).toBe(mode !== 'plain');
  });

  it('verifies the server certificate unless --smtp-insecure', async () => {
    const s = await smtp('tls');
    const f = mailFile(`${FROM},${PASSWORD}`);
    const r = await run(['-m', f, '--smtp-host', '127.0.0.1', '--smtp-port', String(s.port), 'alert-test']);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/^error: test mail not sent: .*(self[- ]signed|certificate)/i);
    expect(s.mails).toHaveLength(0);
  });

  it('a wrong password exits 3 with a hint about app passwords', async () => {
    const s = await smtp('plain');
    const f = mailFile(`${FROM},wrong-password`);
    const r = await run(['-m', f, '--smtp-host', '127.0.0.1', '--smtp-port', String(s.port), '--no-smtp-secure', 'alert-test']);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/error: test mail not sent: .*535/);
    expect(r.err).toContain('Gmail needs an app password');
    expect(r.err).not.toContain('wrong-password');
    expect(s.refusedLogins).toBe(1);
  });

  it('without a mail credentials file it exits 2 saying what to create', async () => {
    const dir = tempDir('mailcli-');
    const r = await run(['-m', join(dir, 'none.txt'), 'alert-test']);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`error: mail credentials file ${join(dir, 'none.txt')} does not exist: create it`);
    const r2 = cli(['--gmail_credentials_file_path', join(dir, 'none.txt'), 'alert-test']);
    expect(r2.code).toBe(2);
    const cwd = spawnSync(process.execPath, [BIN, 'alert-test'], { cwd: dir, encoding: 'utf8', timeout: 20_000 });
    expect(cwd.status).toBe(2);
    expect(cwd.stderr.trim()).toBe(
      'error: mail credentials file ECCMQTTIoT_GMail_Credentials.txt does not exist: create it with one line "from_address,app_password,local_host_name_or_None,to_address" or name another with -m',
    );
  });
});
