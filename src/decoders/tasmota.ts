// Tasmota: `tele/<device>/SENSOR` (or `<device>/tele/SENSOR` with the %topic%/%prefix% full
// topic) holds one JSON block per attached sensor — `"AM2301": {"Temperature": 24.6,
// "Humidity": 58.2, "DewPoint": 15.9}` — in the device's `TempUnit`. Each block with a
// temperature or humidity is one reading: named `<device>` when there is one such block, else
// `<device>/<block>`. STATE, LWT, INFO and the rest of tele/ carry no reading.
import { isObject, parseJsonObject, type JsonObject } from './json-text.js';
import { cleanSensorName, hasClimate, ignored, measuredFrom, readingFromPart, rejected, toPart, type Measured } from './measurements.js';
import type { DecodeResult, FirmwareDecoder, Reading } from './types.js';

const NAME = 'tasmota';

/** The device name from the topic, whichever order the full topic puts prefix and device in. */
function deviceOf(levels: readonly string[]): string {
  const n = levels.length;
  if (n >= 3 && levels[n - 3] === 'tele') return levels[n - 2]!;
  if (n >= 3 && levels[n - 2] === 'tele') return levels[n - 3]!;
  const tele = levels.indexOf('tele');
  const rest = levels.filter((_, i) => i !== tele && i !== n - 1);
  return rest.join('/');
}

// BLE sensors through Tasmota (MI32, BLE bridge) also report a battery % and a real RSSI.
const TASMOTA_KEYS = { temperature: 'Temperature', humidity: 'Humidity', dewPoint: 'DewPoint', battPercent: 'Battery', rssi: 'RSSI' } as const;

function measuredOf(block: JsonObject, unit: 'C' | 'F'): Measured | undefined {
  const m = measuredFrom(block, TASMOTA_KEYS, unit);
  return m.temperature === undefined && m.humidity === undefined ? undefined : m;
}

/** The chip's own temperature (`"ESP32":{"Temperature":48.3}`), not the room's. */
const CHIP_BLOCK = /^ESP(32|8266)/;

/** Blocks with a temperature/humidity; DS18x20's old `{"DS18x20": {"DS1": {...}}}` one level down. */
function climateBlocks(s: JsonObject): Array<[string, JsonObject]> {
  const out: Array<[string, JsonObject]> = [];
  for (const key of Object.keys(s)) {
    const v = s[key];
    if (!isObject(v) || CHIP_BLOCK.test(key)) continue;
    if ('Temperature' in v || 'Humidity' in v) out.push([key, v]);
    else {
      for (const sub of Object.keys(v)) {
        const w = v[sub];
        if (isObject(w) && ('Temperature' in w || 'Humidity' in w)) out.push([`${key}/${sub}`, w]);
      }
    }
    if (out.length > 64) break;
  }
  return out;
}

export const tasmotaDecoder: FirmwareDecoder = {
  name: NAME,
  format: 'tasmota',
  matches(levels) {
    // tele/ carries the telemetry; stat/ and cmnd/ (command results, STATUS) are recognised too.
    return levels.length >= 3 && (levels.includes('tele') || levels.includes('stat') || levels.includes('cmnd'));
  },
  decode(topic: string, text: string): DecodeResult {
    const levels = topic.split('/');
    const kind = levels[levels.length - 1];
    // SENSOR is telemetry (tele/, or the user's own prefix), except as a stat/ or cmnd/ reply.
    const reply = !levels.includes('tele') && (levels.includes('stat') || levels.includes('cmnd'));
    if (kind !== 'SENSOR' || reply) return ignored(NAME, `Tasmota ${reply ? 'command reply ' : ''}${kind ?? ''} message (not telemetry SENSOR)`);
    const parsed = parseJsonObject(text);
    if (!parsed.ok) return rejected(NAME, parsed.reason);
    const s = parsed.value;
    const unitText = s['TempUnit'];
    if (unitText !== undefined && unitText !== 'C' && unitText !== 'F') return rejected(NAME, `unknown TempUnit ${JSON.stringify(unitText).slice(0, 20)}`);
    const unit = unitText === 'F' ? 'F' : 'C';
    const device = cleanSensorName(deviceOf(levels));
    if (device === '') return rejected(NAME, 'no device name in the topic');
    const blocks = climateBlocks(s);
    const readings: Reading[] = [];
    for (const [block, values] of blocks) {
      const m = measuredOf(values, unit);
      if (!m) continue;
      const part = toPart(m);
      if (typeof part === 'string') return rejected(NAME, `${block}: ${part}`);
      if (!hasClimate(part)) continue;
      readings.push(readingFromPart(part, blocks.length === 1 ? device : cleanSensorName(`${device}/${block}`)));
    }
    if (readings.length === 0) return ignored(NAME, 'SENSOR message without temperature or humidity (e.g. ENERGY only)');
    if (readings.length === 1) return { kind: 'reading', reading: readings[0]!, decoder: NAME };
    return { kind: 'readings', readings, decoder: NAME };
  },
};
