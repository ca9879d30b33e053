// Shelly. Gen 1 (H&T): `shellies/<id>/sensor/temperature|humidity|battery`, each a plain number
// in its own message (merged into one reading by ReadingMerger). Gen 2/3 (Plus/Gen3 H&T):
// `<id>/events/rpc` with NotifyStatus/NotifyFullStatus frames whose params hold
// `temperature:N` (tC), `humidity:N` (rh) and `devicepower:0` (battery V and %), and where the
// device is set to publish them, `<id>/status/temperature:0` etc. A NotifyStatus carries only
// what changed, so a lone temperature or humidity is a part to merge too.
import { isObject, numberOf, parseJsonObject, type JsonObject } from './json-text.js';
import { cleanSensorName, hasClimate, ignored, partOf, plainNumber, readingFromPart, rejected, toPart, type Measured } from './measurements.js';
import type { DecodeResult, FirmwareDecoder, Reading } from './types.js';

const NAME = 'shelly';
const GEN1_VALUES = new Set(['temperature', 'humidity', 'battery']);
const COMPONENT = /^(temperature|humidity|devicepower):(\d{1,3})$/;

function gen1(levels: readonly string[], text: string): DecodeResult {
  const id = levels[1] ?? '';
  if (levels.length !== 4 || levels[2] !== 'sensor' || !GEN1_VALUES.has(levels[3]!)) {
    return ignored(NAME, `Shelly ${levels.slice(2).join('/') || 'device'} message (not a temperature, humidity or battery value)`);
  }
  const n = plainNumber(NAME, text);
  if (typeof n !== 'number') return n;
  const what = levels[3];
  const m: Measured = { unit: 'C' };
  if (what === 'temperature') m.temperature = n;
  else if (what === 'humidity') m.humidity = n;
  else m.battPercent = n;
  return partOf(NAME, id, m);
}

/** Adds one component's status (`temperature:0` → tC ...) to the values of its id. */
function addComponent(byId: Map<string, Measured>, type: string, id: string, status: JsonObject): void {
  const m = byId.get(id) ?? { unit: 'C' };
  if (type === 'temperature') {
    const c = numberOf(status['tC']);
    if (c !== undefined) m.temperature = c;
  } else if (type === 'humidity') {
    const rh = numberOf(status['rh']);
    if (rh !== undefined) m.humidity = rh;
  } else if (isObject(status['battery'])) {
    const v = numberOf(status['battery']['V']);
    const pct = numberOf(status['battery']['percent']);
    if (v !== undefined) m.battVoltage = v;
    if (pct !== undefined) m.battPercent = pct;
  }
  byId.set(id, m);
}

/** Readings (or one part) from the components of one status object. */
function fromComponents(device: string, components: JsonObject): DecodeResult {
  const byId = new Map<string, Measured>();
  for (const key of Object.keys(components)) {
    const match = COMPONENT.exec(key);
    const status = components[key];
    if (match && isObject(status)) addComponent(byId, match[1]!, match[2]!, status);
  }
  // The battery (devicepower:0) belongs to the device, i.e. to its first sensor.
  const readings: Reading[] = [];
  let lone: { name: string; m: Measured } | undefined;
  for (const [id, m] of byId) {
    const name = cleanSensorName(id === '0' ? device : `${device}/${id}`);
    const part = toPart(m);
    if (typeof part === 'string') return rejected(NAME, part);
    if (part.temperatureF !== undefined && part.relHumidityPercent !== undefined) readings.push(readingFromPart(part, name));
    else if (hasClimate(part) || part.battPercent !== undefined || part.battVoltage !== undefined) lone = { name, m };
  }
  if (readings.length === 0 && lone) return partOf(NAME, lone.name, lone.m);
  if (readings.length === 0) return ignored(NAME, 'Shelly status without temperature, humidity or battery');
  if (readings.length === 1) return { kind: 'reading', reading: readings[0]!, decoder: NAME };
  return { kind: 'readings', readings, decoder: NAME };
}

function gen2(levels: readonly string[], text: string): DecodeResult {
  const n = levels.length;
  if (levels[n - 1] === 'online') return ignored(NAME, 'Shelly online/offline message');
  if (n >= 3 && levels[n - 2] === 'status') {
    const device = levels.slice(0, n - 2).join('/');
    const component = levels[n - 1]!;
    if (!COMPONENT.test(component)) return ignored(NAME, `Shelly status/${component} message`);
    const parsed = parseJsonObject(text);
    if (!parsed.ok) return rejected(NAME, parsed.reason);
    return fromComponents(device, { [component]: parsed.value });
  }
  // <device>/events/rpc
  const device = levels.slice(0, n - 2).join('/');
  const parsed = parseJsonObject(text);
  if (!parsed.ok) return rejected(NAME, parsed.reason);
  const method = parsed.value['method'];
  if (method !== 'NotifyStatus' && method !== 'NotifyFullStatus') return ignored(NAME, `Shelly ${String(method).slice(0, 40)} notification`);
  const params = parsed.value['params'];
  if (!isObject(params)) return rejected(NAME, `${method} without params`);
  return fromComponents(device, params);
}

function isGen2(levels: readonly string[]): boolean {
  const n = levels.length;
  if (n >= 3 && levels[n - 2] === 'events' && levels[n - 1] === 'rpc') return true;
  return n >= 3 && levels[n - 2] === 'status' && levels[n - 1]!.includes(':');
}

export const shellyDecoder: FirmwareDecoder = {
  name: NAME,
  format: 'shelly',
  matches(levels) {
    return (levels[0] === 'shellies' && levels.length >= 2) || isGen2(levels);
  },
  decode(topic: string, text: string): DecodeResult {
    const levels = topic.split('/');
    if (isGen2(levels) || (levels.length >= 2 && levels[levels.length - 1] === 'online' && levels[0] !== 'shellies')) return gen2(levels, text);
    if (levels[0] === 'shellies') {
      // Gen 2 devices keep the gen-1 style prefix when the user sets it: shellies/<id>/events/rpc.
      return gen1(levels, text);
    }
    return ignored(NAME, 'not a Shelly sensor topic');
  },
};
