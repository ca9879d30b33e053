// The rule parser, the flags (exit 2 with one line), the `alerts` command without a listener, and
// the webhook's retries against a real node:http server on 127.0.0.1 that fails twice.
import { createServer, type IncomingMessage as HttpRequest } from 'node:http';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { alertsReport } from '../src/alerts/alerts-report.js';
import { holds, parseCondition, parseRules } from '../src/alerts/rules.js';
import { WebhookSender } from '../src/alerts/webhook.js';
import { main } from '../src/cli.js';
import type { Logger } from '../src/logging/types.js';
import { tempDir } from './helpers/util.js';

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'mqtt-iot-listener', ...args], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

function rulesFile(content: unknown): string {
  const f = join(tempDir('rules-'), 'rules.json');
  writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content));
  return f;
}

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('alert rules', () => {
  it('parses column, operator and number; a NULL or missing value never holds', () => {
    const c = parseCondition(' battVoltage<=3.3 ');
    expect(c).toEqual({ column: 'battVoltage', op: '<=', limit: 3.3 });
    if (typeof c === 'string') throw new Error(c);
    expect(holds(c, { battVoltage: 3.3 })).toBe(true);
    expect(holds(c, { battVoltage: 3.31 })).toBe(false);
    expect(holds(c, { battVoltage: null })).toBe(false);
    expect(holds(c, {})).toBe(false);
    const rules = parseRules(JSON.stringify([{ sensor: 'Basement', when: 'temperatureF < 40', for: '10m' }, { sensor: '*', when: 'apRSSI < -90' }]), 'r.json');
    expect(rules.map((r) => [r.sensor, r.kind, r.forMs])).toEqual([
      ['Basement', 'temperatureF < 40 for 10m', 600_000],
      ['*', 'apRSSI < -90', 0],
    ]);
  });

  it.each([
    [[{ sensor: 'A', when: 'temprature < 40' }], /rule 1 .*unknown column "temprature"; the columns are temperatureF, /],
    [[{ sensor: 'A', when: 'temperatureF < 40' }, { sensor: 'B', when: 'temperatureF == 40' }], /rule 2 .*"when" must be "<column> <op> <number>"/],
    [[{ sensor: 'A', when: 'temperatureF < forty' }], /rule 1 .*"forty" is not a number/],
    [[{ sensor: 'A', when: 'process.exit() < 1' }], /rule 1 .*"when" must be/],
    [[{ sensor: 'A', when: 'temperatureF < 40', for: 'soon' }], /rule 1 .*"for" must be a duration/],
    [[{ when: 'temperatureF < 40' }], /rule 1 .*"sensor" must be a sensor name or "\*"/],
    [[{ sensor: 'A', when: 'temperatureF < 40', fro: '10m' }], /rule 1 .*unknown key "fro"/],
    ['[{"sensor": "A",', /is not valid JSON/],
    [{ sensor: 'A' }, /expected a JSON array of rules/],
  ])('a bad rule file exits 2 with one line naming the rule (%j)', async (content, reason) => {
    const file = rulesFile(content);
    const r = await run(['--alert-rules', file, 'check-config']);
    expect(r.code).toBe(2);
    expect(r.err.split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/^error: (alert rules file|cannot read)/);
    expect(r.err).toMatch(reason);
    expect(r.err).toContain(file);
  });

  it('the listener itself refuses to start on a rule with an unknown column (exit 2, nothing created)', async () => {
    const dir = tempDir('rules-run-');
    const file = rulesFile([{ sensor: '*', when: 'humidity > 80' }]);
    const r = await run(['-d', join(dir, 'db.sqlite3'), '-l', join(dir, 'listener.log'), '--no-console', '--alert-rules', file]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error: alert rules file .*: rule 1 \{"sensor":"\*","when":"humidity > 80"\}: unknown column "humidity"; the columns are /);
    expect(existsSync(join(dir, 'db.sqlite3'))).toBe(false);
  });

  it('check-config shows the sensor alerts with the webhook secret masked; bad flags exit 2', async () => {
    const file = rulesFile([{ sensor: 'Basement', when: 'temperatureF < 40', for: '10m' }]);
    const dir = tempDir('cfg-');
    const ok = await run(['-n', join(dir, 'notice.dat'), '--sensor-silence', '90', '--battery-low', '15', '--alert-rules', file, '--alert-webhook', 'https://hooks.example.org/services/T000/SECRET', 'check-config']);
    expect(ok.code).toBe(0);
    const cfg = JSON.parse(ok.out) as { sensorAlerts: Record<string, unknown> };
    expect(cfg.sensorAlerts).toEqual({
      silenceMs: 90 * 60_000,
      batteryLowPercent: 15,
      rulesFile: file,
      rules: ['Basement: temperatureF < 40 for 10m'],
      webhookUrl: 'https://hooks.example.org/…',
      cycleMs: 60_000,
      stateFile: join(dir, 'ECCMQTTIoT_Sensor_Alerts.json'),
    });
    expect(ok.out).not.toContain('SECRET');

    for (const [args, reason] of [
      [['--battery-low', '150'], /--battery-low must be a percentage/],
      [['--sensor-silence', 'soon'], /--sensor-silence must be a number of minutes/],
      [['--sensor-silence', '5', '--alert-webhook', 'ftp://x'], /--alert-webhook must be an http:\/\/ or https:\/\/ URL/],
      [['--alert-webhook', 'https://x.example'], /--alert-webhook needs something to report/],
      [['--battery-low', '10', '--alert-cycle', '10ms'], /--alert-cycle must be a duration of 1s or more/],
    ] as const) {
      const r = await run([...args, 'check-config']);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err.split('\n')).toHaveLength(1);
      expect(r.err).toMatch(reason);
    }
  });
});

describe('alerts command', () => {
  it('works without a listener: no state yet, then a state file with a problem and a mute (exit 1)', async () => {
    const dir = tempDir('alerts-cmd-');
    const none = await run(['-n', join(dir, 'notice.dat'), 'alerts']);
    expect(none.code).toBe(0);
    expect(none.out).toMatch(/^no sensor alert state yet/);

    const now = Date.now();
    const iso = (ms: number): string => new Date(ms).toISOString();
    const state = {
      version: 1,
      updatedUTC: iso(now - 60_000),
      problems: [{ sensor: 'Basement', kind: 'silent', sinceUTC: iso(now - 3_600_000), detail: 'no reading since …', announced: true }],
      mutes: [
        { sensor: 'Basement', kind: 'silent', mailedUTC: iso(now - 60_000), untilUTC: iso(now + 86_340_000) },
        { sensor: 'Attic', kind: 'battery low', mailedUTC: iso(now - 90_000_000), untilUTC: iso(now - 3_600_000) },
      ],
      outbox: [{ type: 'recovery', sensor: 'Attic', kind: 'silent', atUTC: iso(now), text: 'reporting again' }],
      mailFailingSinceUTC: iso(now - 120_000),
    };
    writeFileSync(join(dir, 'ECCMQTTIoT_Sensor_Alerts.json'), JSON.stringify(state));
    const text = await run(['-n', join(dir, 'notice.dat'), 'alerts']);
    expect(text.code).toBe(1);
    expect(text.out).toMatch(/1 current problem\(s\):\nsensor +kind +since +mailed +detail\nBasement +silent +\d{4}-\d{2}-\d{2} [\d:]+ [+-]\d{4} +yes/);
    expect(text.out).toMatch(/1 mute\(s\):\n.*\nBasement +silent/); // the expired Attic mute is not shown
    expect(text.out).toMatch(/1 line\(s\) wait for the mail server \(failing since /);

    const json = await run(['-n', join(dir, 'notice.dat'), 'alerts', '--json']);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.out) as ReturnType<typeof alertsReport>;
    // The pure function /api/alerts serves gives the same data.
    expect({ ...report, checkedAtUTC: '' }).toEqual({ ...alertsReport(state as never, report.stateFile, Date.parse(report.checkedAtUTC)), checkedAtUTC: '' });
    expect(report.mutes).toHaveLength(1);

    writeFileSync(join(dir, 'ECCMQTTIoT_Sensor_Alerts.json'), '{"version": 1, "problems": 3}');
    const bad = await run(['-n', join(dir, 'notice.dat'), 'alerts']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^error: sensor alert state .* is damaged or not ours$/);
  });
});

describe('alert webhook', () => {
  it('retries with backoff against a server that fails twice; the body arrives intact on the third try; one warning', async () => {
    const received: Array<{ status: number; body: string; type: string | undefined }> = [];
    const server = createServer((req: HttpRequest, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const status = received.length < 2 ? 503 : 200;
        received.push({ status, body, type: req.headers['content-type'] });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const lines: string[] = [];
    const log: Logger = {
      error: (m: string) => lines.push(`ERROR ${m}`),
      warn: (m: string) => lines.push(`WARN ${m}`),
      info: (m: string) => lines.push(`INFO ${m}`),
      debug: () => undefined,
    } as Logger;
    const port = (server.address() as { port: number }).port;
    const hook = new WebhookSender({ url: `http://127.0.0.1:${port}/hook`, log, firstDelayMs: 20 });
    cleanups.push(() => hook.stop());
    const started = Date.now();
    hook.post({ title: 'Basement silent', problems: [{ sensor: 'Basement' }] });
    const deadline = Date.now() + 10_000;
    while (hook.stats.delivered === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(hook.stats).toMatchObject({ delivered: 1, failedTries: 2, givenUp: 0 });
    expect(received.map((r) => r.status)).toEqual([503, 503, 200]);
    expect(new Set(received.map((r) => r.body)).size).toBe(1);
    expect(JSON.parse(received[2]!.body)).toEqual({ title: 'Basement silent', problems: [{ sensor: 'Basement' }] });
    expect(received[2]!.type).toBe('application/json');
    expect(Date.now() - started).toBeGreaterThanOrEqual(60); // waited 20 ms, then 40 ms
    expect(lines.filter((l) => l.startsWith('WARN'))).toEqual([expect.stringContaining('alert webhook http://127.0.0.1:')]);
    expect(lines).toContainEqual(expect.stringMatching(/^INFO alert webhook .* digest delivered at try 3$/));
  });

  it('gives up after its tries with one error, and stop() ends a retry wait at once', async () => {
    const lines: string[] = [];
    const log = { error: (m: string) => lines.push(`ERROR ${m}`), warn: (m: string) => lines.push(`WARN ${m}`), info: () => undefined, debug: () => undefined } as unknown as Logger;
    // A port nothing listens on: connection refused.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const hook = new WebhookSender({ url: `http://127.0.0.1:${port}/`, log, firstDelayMs: 5, tries: 3 });
    hook.post({ n: 1 });
    const deadline = Date.now() + 10_000;
    while (hook.stats.givenUp === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(hook.stats).toMatchObject({ delivered: 0, failedTries: 3, givenUp: 1 });
    expect(lines.filter((l) => l.startsWith('WARN'))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('ERROR'))).toEqual([expect.stringMatching(/NOT delivered after 3 tries \(last: ECONNREFUSED\)/)]);

    const slow = new WebhookSender({ url: `http://127.0.0.1:${port}/`, log, firstDelayMs: 60_000 });
    slow.post({ n: 2 });
    await new Promise((r) => setTimeout(r, 200)); // first try failed, now waiting 60 s
    const t = Date.now();
    await slow.stop();
    expect(Date.now() - t).toBeLessThan(1000);
  });
});
