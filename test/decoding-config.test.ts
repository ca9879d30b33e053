// --topic <filter>=<format> and --mapping <file> as a user gives them: the real launcher in a
// child process; a bad format, filter or mapping file exits 2 with one line saying what to fix.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseTopicSpec, resolveDecoding } from '../src/decoders/decoding-config.js';
import { tempDir } from './helpers/util.js';

const BIN = fileURLToPath(new URL('../bin/mqtt-iot-listener.js', import.meta.url));

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args, 'check-config'], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, MQTT_USERNAME: '', MQTT_PASSWORD: '' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const GOOD_MAPPING = { sensors: [{ topic: 'office/+/climate', name: { topicLevel: 2 }, temperature: { path: 'env.temp', unit: 'C' } }] };

describe('--topic formats', () => {
  it('the ECC default topic is ecc, any other filter auto, a named format wins', () => {
    expect(parseTopicSpec('ECCTempHum')).toEqual({ subscription: 'ECCTempHum', format: 'ecc' });
    expect(parseTopicSpec('sensors/#')).toEqual({ subscription: 'sensors/#', format: 'auto' });
    expect(parseTopicSpec('zb/#=z2m')).toEqual({ subscription: 'zb/#', format: 'z2m' });
    expect(parseTopicSpec('$share/g/tele/+/SENSOR=tasmota')).toEqual({ subscription: '$share/g/tele/+/SENSOR', format: 'tasmota' });
    // A topic level that happens to hold '=' and no format name stays part of the filter.
    expect(parseTopicSpec('a/b=C D')).toEqual({ subscription: 'a/b=C D', format: 'auto' });
  });

  it('mapping topics are subscribed too, once', () => {
    const dir = tempDir();
    const file = join(dir, 'm.json');
    writeFileSync(file, JSON.stringify(GOOD_MAPPING));
    const { topics, decoding } = resolveDecoding(['ECCTempHum', 'office/+/climate=json'], file);
    expect(topics).toEqual(['ECCTempHum', 'office/+/climate']);
    expect(resolveDecoding(['ECCTempHum'], file).topics).toEqual(['ECCTempHum', 'office/+/climate']);
    expect(decoding.mapping).toHaveLength(1);
  });

  it('check-config shows the routes', () => {
    const r = cli(['--topic', 'zigbee2mqtt/#=z2m', '--topic', 'tele/#']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('zigbee2mqtt/#');
    expect(r.out).toMatch(/"format": "z2m"/);
  });

  const bad: Array<[string[], RegExp]> = [
    [['--topic', 'tele/#=tasmot'], /--topic "tele\/#=tasmot": unknown format "tasmot"; use one of ecc, tasmota/],
    [['--topic', 'a/#/b'], /--topic "a\/#\/b" is not a valid MQTT topic filter/],
    [['--topic', 'office/#=json'], /needs --mapping/],
  ];
  it.each(bad)('bad --topic %j exits 2 with one line', (args, line) => {
    const r = cli(args);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(line);
  });
});

describe('--mapping file', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['missing file', '', /--mapping .*: cannot read it \(no such file\)/],
    ['not JSON', '{"sensors": [', /--mapping .*: not valid JSON/],
    ['no sensors', '{"rooms": []}', /expected \{"sensors": \[ \.\.\. \]\} at the top/],
    ['bad unit', JSON.stringify({ sensors: [{ ...GOOD_MAPPING.sensors[0], temperature: { path: 't', unit: 'K' } }] }), /sensors\[0\]\.temperature\.unit must be "C" or "F"/],
    ['no values', JSON.stringify({ sensors: [{ topic: 'a/+', name: { topicLevel: 2 } }] }), /sensors\[0\] needs a temperature or a humidity path/],
    ['bad name', JSON.stringify({ sensors: [{ topic: 'a/+', name: { topicLevel: 0 }, humidity: { path: 'h' } }] }), /sensors\[0\]\.name\.topicLevel must be a whole number/],
    ['bad filter', JSON.stringify({ sensors: [{ topic: 'a/#/b', name: { fixed: 'A' }, humidity: { path: 'h' } }] }), /sensors\[0\]\.topic "a\/#\/b" has a #/],
    ['unknown key', JSON.stringify({ sensors: [{ ...GOOD_MAPPING.sensors[0], temprature: { path: 't' } }] }), /unknown key "temprature"/],
  ];
  it.each(cases)('%s: exit 2 with one line naming the mistake', (_n, text, line) => {
    const dir = tempDir();
    const file = join(dir, 'mapping.json');
    if (text !== '') writeFileSync(file, text);
    const r = cli(['--mapping', file]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(line);
  });
});
