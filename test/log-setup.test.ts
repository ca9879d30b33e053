// The log set-up around the rotator: a crash is logged with its stack (file and stderr) before the
// process exits 1, and --mqtt-debug-log captures MQTT.js's own debug output in its own file.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startAedes } from './helpers/brokers.js';
import { startedApp, tempDir } from './helpers/util.js';

const CRASH = fileURLToPath(new URL('./fixtures/crash.mjs', import.meta.url));

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('crash logging', () => {
  it.each([
    ['exception', 'uncaught exception', 'boom from a timer'],
    ['rejection', 'unhandled promise rejection', 'boom from a promise'],
  ])('an uncaught %s is logged with its stack, flushed, and the process exits 1', (kind, what, message) => {
    const dir = tempDir();
    const r = spawnSync(process.execPath, [CRASH, dir, kind], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(1);
    const log = readFileSync(join(dir, 'ECCMQTTIoT.log'), 'utf8');
    expect(log).toMatch(/INFO \[app\] mqtt-iot-listener .* starting/);
    const at = log.indexOf(`ERROR [app] ${what}, exiting: Error: ${message}`);
    expect(at).toBeGreaterThan(0);
    expect(log.slice(at)).toMatch(/\n\s+at .*crash\.mjs:\d+/); // the stack, down to the throwing line
    // As a service (no console) errors still reach stderr, for the scheduled task's own log.
    expect(r.stderr).toContain(`${what}, exiting: Error: ${message}`);
  });
});

describe('--mqtt-debug-log', () => {
  function mqttDebug(): { enabled(ns: string): boolean } {
    const here = createRequire(import.meta.url);
    return createRequire(here.resolve('mqtt'))('debug') as { enabled(ns: string): boolean };
  }

  it("writes MQTT.js's own debug output to its own file, and switches it off at stop", async () => {
    const dir = tempDir();
    const broker = await startAedes();
    cleanups.push(() => broker.stop());
    const file = join(dir, 'mqtt-debug.log');
    const app = await startedApp(dir, broker.port, { mqttDebugLog: file }, cleanups);
    expect(mqttDebug().enabled('mqttjs:client')).toBe(true);
    await app.stop();
    const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
    expect(lines.length).toBeGreaterThan(3);
    expect(lines.some((l) => /^\d{4}-\d{2}-\d{2}T\S+Z mqttjs:client .*connect/i.test(l))).toBe(true);
    expect(lines.join('\n')).not.toMatch(/\x1b\[/); // eslint-disable-line no-control-regex
    expect(mqttDebug().enabled('mqttjs:client')).toBe(false);
    expect(readFileSync(join(dir, 'test.log'), 'utf8')).toContain(`MQTT library debug output goes to ${file}`);
  });
});
