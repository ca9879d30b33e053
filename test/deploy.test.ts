// The files under deploy/ are what users copy: the systemd unit must pass systemd's own check and
// run a command line the listener accepts; the Task Scheduler XML must be well-formed, set what
// the README promises and name the same flags as the README; the cron guard must start one
// listener and only one.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterEach, describe, expect, it } from 'vitest';
import { formatLock } from '../src/instance-lock.js';
import { freePort } from './helpers/brokers.js';
import { BIN, REPO, filesIn, kill, launch, readIfExists, type Running } from './helpers/service.js';
import { tempDir, waitFor } from './helpers/util.js';

const read = (p: string): string => readFileSync(join(REPO, p), 'utf8');
const README = read('README.md');
/** The V8 heap cap of every launch path (npm start, bin/, deploy/): keeps RSS under ~150 MB. */

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

/** Splits a command line at blanks, keeping "double-quoted parts" together (quotes removed). */
function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** KEY=value lines as systemd's EnvironmentFile= reads them (double quotes removed). */
function envFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1');
  }
  return out;
}

function checkConfig(args: string[], cwd: string): { code: number | null; config: Record<string, unknown>; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args, 'check-config'], { cwd, encoding: 'utf8', env: { ...process.env, MQTT_USERNAME: '', MQTT_PASSWORD: '' } });
  return { code: r.status, config: r.status === 0 ? (JSON.parse(r.stdout) as Record<string, unknown>) : {}, err: r.stderr };
}

describe('memory however it is started', () => {
  it('npm start and every deploy file start the launcher without node heap flags (the launcher caps memory itself)', () => {
    const flags = (text: string): string[] => [...text.matchAll(/--max-(old|semi)-space-size=\d+/g)].map((m) => m[0]);
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(flags(pkg.scripts['start']!)).toEqual([]);
    expect(read('bin/mqtt-iot-listener.js')).toContain('capMemory()');
    for (const f of ['deploy/systemd/mqtt-iot-listener.service', 'deploy/windows/mqtt-iot-listener-task.xml', 'deploy/windows/install-task.ps1', 'deploy/cron/run-listener.sh']) {
      expect(read(f), f).toContain('bin/mqtt-iot-listener.js'.replace('/', f.includes('windows') ? '\\' : '/'));
      expect(flags(read(f)), f).toEqual([]);
    }
  });
});

describe('systemd unit', () => {
  const unit = read('deploy/systemd/mqtt-iot-listener.service');
  const env = envFile(read('deploy/systemd/mqtt-iot-listener.env'));
  const directive = (key: string): string[] => [...unit.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]!.trim());

  const analyze = which('systemd-analyze');
  it.skipIf(!analyze)(`passes systemd-analyze verify${analyze ? '' : ' (SKIPPED: systemd-analyze is not installed here)'}`, () => {
    const dir = tempDir('unit-');
    // As installed on this machine: this node and this checkout instead of /usr/bin/node and /opt.
    const local = unit.replaceAll('/usr/bin/node', process.execPath).replaceAll('/opt/mqtt-iot-listener', REPO);
    const file = join(dir, 'mqtt-iot-listener.service');
    writeFileSync(file, local);
    const r = spawnSync(analyze!, ['verify', file], { encoding: 'utf8', timeout: 30_000 });
    // systemd < 254 does not know the back-off keys yet and says so; nothing else may be reported.
    const complaints = `${r.stdout}\n${r.stderr}`
      .split('\n')
      .filter((l) => l.trim() !== '' && !/Unknown key '?(RestartSteps|RestartMaxDelaySec)'?/.test(l));
    expect(complaints).toEqual([]);
    expect(r.status).toBe(0);
  });

  it('is a restarting, hardened service that does not loop on bad configuration', () => {
    expect(directive('Type')).toEqual(['simple']);
    expect(directive('User')).toEqual(['mqtt-iot-listener']);
    expect(directive('Restart')).toEqual(['on-failure']);
    expect(directive('RestartSec')).toHaveLength(1);
    expect(directive('RestartPreventExitStatus')[0]!.split(/\s+/)).toEqual(expect.arrayContaining(['2', '4']));
    expect(directive('NoNewPrivileges')).toEqual(['yes']);
    expect(directive('ProtectSystem')).toEqual(['strict']);
    expect(directive('PrivateTmp')).toEqual(['yes']);
    expect(directive('EnvironmentFile')).toEqual(['/etc/mqtt-iot-listener/mqtt-iot-listener.env']);
    expect(directive('ExecReload')).toEqual(['/bin/kill -HUP $MAINPID']);
    // The database and log folders named in the settings file are writable, nothing else.
    const writable = directive('ReadWritePaths')[0]!.split(/\s+/);
    expect(writable).toEqual(expect.arrayContaining([dirname(env['LISTENER_DB']!), dirname(env['LISTENER_LOG']!)]));
  });

  it('runs a command line the listener accepts, with the settings of the example environment file', () => {
    const dir = tempDir('unit-cmd-');
    const creds = join(dir, 'creds.txt');
    writeFileSync(creds, 'listener,secret\n');
    chmodSync(creds, 0o600);
    // The example's paths moved into a temp folder; the rest as systemd would expand it:
    // ${VAR} is one word, $VAR is split at blanks.
    const vars: Record<string, string> = {
      ...env,
      LISTENER_DB: join(dir, 'ECCTempHum.sqlite3'),
      LISTENER_LOG: join(dir, 'ECCMQTTIoT.log'),
      LISTENER_OPTIONS: env['LISTENER_OPTIONS']!.replace('/etc/mqtt-iot-listener/ECCMQTTIoT_Credentials.txt', creds),
    };
    const argv = words(directive('ExecStart')[0]!).flatMap((w) => {
      const whole = /^\$\{(\w+)\}$/.exec(w);
      if (whole) return [vars[whole[1]!] ?? ''];
      const split = /^\$(\w+)$/.exec(w);
      if (split) return (vars[split[1]!] ?? '').split(/\s+/).filter(Boolean);
      return [w];
    });
    expect(argv.slice(0, 2)).toEqual(['/usr/bin/node', '/opt/mqtt-iot-listener/bin/mqtt-iot-listener.js']);
    const r = checkConfig(argv.slice(2), dir);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.config).toMatchObject({
      broker: env['LISTENER_BROKER'],
      dbFile: vars['LISTENER_DB'],
      logFile: vars['LISTENER_LOG'],
      logLevel: 'info',
      console: true,
      mqtt: { username: 'listener', password: '********', source: 'file' },
    });
  });
});

describe('Windows scheduled task', () => {
  const xml = read('deploy/windows/mqtt-iot-listener-task.xml');
  type Node = Record<string, unknown>;
  const task = (): Node => (new XMLParser({ ignoreAttributes: false, parseTagValue: false }).parse(xml) as { Task: Node }).Task;
  const at = (path: string): unknown => path.split('.').reduce<unknown>((n, k) => (n as Node | undefined)?.[k], task());

  it('is well-formed XML in the Task Scheduler namespace', () => {
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(at('@_xmlns')).toBe('http://schemas.microsoft.com/windows/2004/02/mit/task');
  });

  it('starts at boot whether a user is logged on or not, restarts every minute, has no 3-day limit', () => {
    expect(at('Triggers.BootTrigger.Enabled')).toBe('true');
    expect(at('Principals.Principal.UserId')).toBe('S-1-5-18'); // SYSTEM: runs with nobody logged on
    expect(at('Settings.ExecutionTimeLimit')).toBe('PT0S');
    expect(at('Settings.RestartOnFailure.Interval')).toBe('PT1M');
    expect(Number(at('Settings.RestartOnFailure.Count'))).toBeGreaterThanOrEqual(1);
    expect(at('Settings.MultipleInstancesPolicy')).toBe('IgnoreNew');
    expect(at('Settings.DisallowStartIfOnBatteries')).toBe('false');
    expect(at('Settings.StopIfGoingOnBatteries')).toBe('false');
    expect(at('Settings.Enabled')).toBe('true');
    expect(String(at('Actions.Exec.WorkingDirectory'))).toMatch(/^[A-Z]:\\/);
  });

  const xmlCommand = (): string[] => [String(at('Actions.Exec.Command')), ...words(String(at('Actions.Exec.Arguments')))];
  /** The listener's own flags: after node.exe and the launcher. */
  const xmlListenerArgs = (): string[] => xmlCommand().slice(2);

  it('runs node.exe with the launcher (no node flags: it caps memory itself)', () => {
    expect(xmlCommand().slice(1, 2)).toEqual(['C:\\mqtt-iot-listener\\bin\\mqtt-iot-listener.js']);
    expect(read('deploy/windows/install-task.ps1')).toContain('$commandLine = "\`"$bin\`" $Arguments"');
  });

  it('names the same command line and flags as the README and install-task.ps1', () => {
    const inReadme = README.split('\n').find((l) => l.includes('bin\\mqtt-iot-listener.js -db'));
    expect(inReadme, 'the README shows the task command line').toBeDefined();
    expect(words(inReadme!)).toEqual(xmlCommand());

    const flags = xmlListenerArgs().filter((w) => w.startsWith('-'));
    expect(flags.length).toBeGreaterThan(3);
    for (const f of flags) expect(README, `flag ${f} is in the README's flag table`).toContain(`\`${f}\``);

    const ps1 = read('deploy/windows/install-task.ps1');
    const dataDir = /\[string\]\$DataDir = '([^']+)'/.exec(ps1)![1]!;
    const defaults = /\[string\]\$Arguments = "([^"]+)"/.exec(ps1)![1]!.replaceAll('$DataDir', dataDir);
    expect(words(defaults)).toEqual(xmlListenerArgs());
    expect(dataDir).toBe(at('Actions.Exec.WorkingDirectory'));
    expect(ps1).toContain("'mqtt-iot-listener-task.xml'");
    expect(README).toContain('schtasks /Create /TN mqtt-iot-listener /XML');
  });

  it("its flags are accepted by the listener (the task's paths moved into a temp folder)", () => {
    const dir = tempDir('task-');
    const ecc = String(at('Actions.Exec.WorkingDirectory'));
    const args = xmlListenerArgs().map((w) => (w.startsWith(`${ecc}\\`) ? join(dir, w.slice(ecc.length + 1)) : w));
    writeFileSync(join(dir, 'ECCMQTTIoT_Credentials.txt'), 'listener,secret\n');
    chmodSync(join(dir, 'ECCMQTTIoT_Credentials.txt'), 0o600);
    const r = checkConfig(args, dir);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.config).toMatchObject({ dbFile: join(dir, 'ECCTempHum.sqlite3'), logFile: join(dir, 'ECCMQTTIoT.log'), logLevel: 'info', console: false });
  });
});

describe('cron guard', () => {
  const guard = join(REPO, 'deploy/cron/run-listener.sh');

  it('the crontab starts the guard at boot and every few minutes', () => {
    const tab = read('deploy/cron/mqtt-iot-listener.crontab');
    expect(tab).toMatch(/^@reboot\s+\S*deploy\/cron\/run-listener\.sh$/m);
    expect(tab).toMatch(/^\*\/\d+ \* \* \* \*\s+\S*deploy\/cron\/run-listener\.sh$/m);
    expect(README).toContain('@reboot     /opt/mqtt-iot-listener/deploy/cron/run-listener.sh');
  });

  it('starts one listener; a second run returns at once; a lost race (exit 4) counts as running', async () => {
    const dir = tempDir('cron-');
    const f = filesIn(dir);
    const settings = join(dir, 'mqtt-iot-listener.env');
    const port = await freePort();
    writeFileSync(
      settings,
      [
        '# as in deploy/systemd/mqtt-iot-listener.env',
        'LISTENER_BROKER=127.0.0.1',
        `LISTENER_DB=${f.db}`,
        `LISTENER_LOG=${f.log}`,
        `LISTENER_OPTIONS="--embedded-broker --port ${port} --log-level debug"`,
        `LISTENER_NODE=${process.execPath}`,
        '',
      ].join('\n'),
    );
    const sh = (): ReturnType<typeof spawnSync> => spawnSync('sh', [guard, settings], { encoding: 'utf8', timeout: 20_000 });

    const first: Running = launch([guard, settings], { cwd: dir, command: 'sh' });
    cleanups.push(() => kill(first));
    await waitFor(() => readIfExists(f.log).includes('subscribed to') || first.child.exitCode !== null, 20_000, 'listener started by the guard');
    expect(first.child.exitCode).toBeNull();
    const listenerPid = Number(readFileSync(f.lock, 'utf8').split('\n')[0]);
    const cmdline = `/proc/${listenerPid}/cmdline`;
    if (existsSync(cmdline)) expect(readFileSync(cmdline, 'utf8').split('\0').slice(1, 2)).toEqual([join(REPO, 'bin/mqtt-iot-listener.js')]);
    cleanups.push(() => {
      try {
        process.kill(listenerPid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    });

    const again = sh();
    expect(again.status).toBe(0);
    expect(again.stderr).toBe('');
    expect(readFileSync(f.log, 'utf8').match(/ starting \(pid /g)).toHaveLength(1);

    process.kill(listenerPid, 'SIGTERM');
    expect((await first.exited).code).toBe(0);
    expect(existsSync(f.lock)).toBe(false);

    // A lock without a boot id (the guard cannot tell) held by a live process: the guard starts
    // the listener, which refuses with exit 4, and the guard reports success.
    writeFileSync(f.lock, formatLock({ pid: process.pid, host: hostname() }));
    const raced = sh();
    expect(raced.stderr).toMatch(/another instance \(pid \d+\)/);
    expect(raced.status).toBe(0);
  });

  it('a missing settings file is exit 2 with one line', () => {
    const r = spawnSync('sh', [guard, join(tempDir('cron-none-'), 'nope.env')], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/^run-listener\.sh: cannot read the settings file /);
  });
});

