// Property test: no decoder throws, on any bytes or any JSON, under any topic shape and route;
// every reading it gives is storable (finite numbers in range or null, a clean non-empty name);
// huge or deeply nested JSON is rejected at once. Seeded, so a failure is reproducible.
import { describe, expect, it } from 'vitest';
import { FORMATS, MessageDecoder, type DecodeResult, type Reading } from '../src/decoders/index.js';
import { MAX_JSON_BYTES } from '../src/decoders/json-text.js';
import { parseMapping } from '../src/decoders/mapping-file.js';

/** mulberry32: a small seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TOPICS = [
  'ECCTempHum', 'tele/dev/SENSOR', 'dev/tele/SENSOR', 'tele/dev/STATE', 'zigbee2mqtt/dev', 'zigbee2mqtt/bridge/info',
  'shellies/ht/sensor/temperature', 'shellies/ht/sensor/battery', 'ht/events/rpc', 'ht/status/temperature:0', 'ht/status/devicepower:0',
  'node/sensor/node_temperature/state', 'node/sensor/node_battery_voltage/state', 'home/gw/BTtoMQTT/AABBCCDDEEFF', 'home/gw/LWT',
  'homeassistant/sensor/x/config', 'office/desk/climate', 'x', '', '/', '//', 'a/+/b', '\u0000/\u0001',
];
const KEYS = ['temperature', 'humidity', 'battery', 'voltage', 'Temperature', 'Humidity', 'DewPoint', 'TempUnit', 'tempc', 'tempf', 'hum', 'batt', 'volt', 'rssi', 'id', 'name', 'model', 'method', 'params', 'temperature:0', 'humidity:0', 'devicepower:0', 'tC', 'rh', 'V', 'percent', 'AM2301', 'env', 'temp', '__proto__', 'constructor', 'toString'];

function randomJson(r: () => number, depth: number): unknown {
  const pick = r();
  if (depth > 4 || pick < 0.35) {
    const leaves = [0, -1, 1e308, -1e308, 21.5, 1000, -273, 'NaN', 'nan', '12', '', 'C', 'F', 'K', 'NotifyStatus', 'NotifyFullStatus', null, true, false, 'x'.repeat(300), '\u0000\u001f'];
    return r() < 0.5 ? leaves[Math.floor(r() * leaves.length)] : (r() - 0.5) * 10 ** Math.floor(r() * 6);
  }
  if (pick < 0.5) return Array.from({ length: Math.floor(r() * 4) }, () => randomJson(r, depth + 1));
  const o: Record<string, unknown> = {};
  const n = Math.floor(r() * 6);
  for (let i = 0; i < n; i++) o[KEYS[Math.floor(r() * KEYS.length)]!] = randomJson(r, depth + 1);
  return o;
}

function randomPayload(r: () => number): Buffer {
  const kind = r();
  if (kind < 0.3) return Buffer.from(Array.from({ length: Math.floor(r() * 200) }, () => Math.floor(r() * 256)));
  if (kind < 0.85) return Buffer.from(JSON.stringify(randomJson(r, 0)) ?? 'null');
  const s = JSON.stringify(randomJson(r, 0)) ?? '';
  // A valid JSON cut short or with a byte flipped.
  const b = Buffer.from(s.slice(0, Math.floor(r() * s.length)));
  if (b.length > 0) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
  return b;
}

const KINDS = new Set(['reading', 'readings', 'part', 'ignored', 'rejection']);

/** Why a reading could not be stored as it is, or undefined (plain checks: this runs 10 000 times). */
function readingProblem(x: Reading): string | undefined {
  if (x.sensorName.length === 0 || x.sensorName.length > 128) return `sensor name length ${x.sensorName.length}`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(x.sensorName)) return 'control character in the sensor name';
  for (const v of [x.dewPointF, x.temperatureF, x.relHumidityPercent, x.battVoltage, x.battPercent, x.apRSSI]) {
    if (v !== null && !Number.isFinite(v)) return `non-finite value ${v}`;
  }
  if (x.relHumidityPercent !== null && (x.relHumidityPercent < 0 || x.relHumidityPercent > 100)) return `humidity ${x.relHumidityPercent}`;
  if (x.temperatureF !== null && (x.temperatureF < -100 || x.temperatureF > 300)) return `temperature ${x.temperatureF}`;
  return undefined;
}

function problem(result: DecodeResult): string | undefined {
  if (!KINDS.has(result.kind)) return `unknown kind ${result.kind}`;
  if (result.kind === 'reading') return readingProblem(result.reading);
  if (result.kind === 'readings') return result.readings.map(readingProblem).find((p) => p !== undefined);
  if (result.kind === 'rejection' && result.reason.length === 0) return 'rejection without a reason';
  return undefined;
}

const mapping = parseMapping(JSON.stringify({ sensors: [{ topic: 'office/+/climate', name: { path: 'name' }, temperature: { path: 'env.temp' }, humidity: { path: 'hum' } }] }));
const decoders = [
  new MessageDecoder([{ subscription: '#', format: 'auto' }], mapping),
  ...FORMATS.filter((f) => f !== 'auto').map((f) => new MessageDecoder([{ subscription: '#', format: f }], mapping)),
];

describe('decoders under random input', () => {
  it('10 000 random payloads x topics x formats: no throw, every reading storable', () => {
    const r = prng(14);
    for (let i = 0; i < 10_000; i++) {
      const topic = TOPICS[Math.floor(r() * TOPICS.length)]!;
      const payload = randomPayload(r);
      const d = decoders[i % decoders.length]!;
      let result: DecodeResult;
      try {
        result = d.decode(topic, payload);
      } catch (err) {
        throw new Error(`threw on topic ${JSON.stringify(topic)} payload ${payload.toString('hex')}: ${(err as Error).message}`);
      }
      const p = problem(result);
      if (p) throw new Error(`${p}: topic ${JSON.stringify(topic)} payload ${payload.toString('hex')} -> ${JSON.stringify(result)}`);
    }
  });

  it('deeply nested and huge JSON are rejected without blocking or overflowing the stack', () => {
    const auto = decoders[0]!;
    const deep = Buffer.from(`{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
    const started = performance.now();
    expect(auto.decode('zigbee2mqtt/x', deep)).toMatchObject({ kind: 'rejection', reason: expect.stringMatching(/nested deeper/) });
    const huge = Buffer.from(`{"temperature":20,"pad":"${'x'.repeat(MAX_JSON_BYTES)}"}`);
    expect(auto.decode('zigbee2mqtt/x', huge)).toMatchObject({ kind: 'rejection', reason: expect.stringMatching(/too large/) });
    // Generous: this is a guard against quadratic or recursive work, not a timing target.
    expect(performance.now() - started).toBeLessThan(2000);
    // Brackets inside strings do not count as nesting.
    expect(auto.decode('zigbee2mqtt/x', Buffer.from(`{"temperature":20,"s":"${'['.repeat(100)}"}`)).kind).toBe('reading');
  });
});
