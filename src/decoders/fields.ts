// Decoder for the original ECC firmware payload: `field1=47.10&field2=...&field7=ECCTH01[&field8..10]`.
// Better than the original, keys win over positions (`field2=` is the temperature wherever it
// stands); a pair without a `fieldN` key falls back to its position.
import { parseDecimal } from '../numbers.js';
import type { DecodeResult, Decoder, Reading } from './types.js';


const MAX_TEXT_FIELD = 128;

/** In the order of Reading's numeric columns (dewPointF ... apRSSI), see decode(). */
interface NumericField {
  index: number;
  label: string;
  min?: number;
  max?: number;
  integer?: boolean;
}

const NUMERIC_FIELDS: readonly NumericField[] = [
  { index: 1, label: 'dew point (°F)', min: -150, max: 200 },
  { index: 2, label: 'temperature (°F)', min: -80, max: 200 },
  { index: 3, label: 'relative humidity (%)', min: 0, max: 100 },
  { index: 4, label: 'battery voltage (V)', min: 0, max: 100 },
  { index: 5, label: 'battery (%)', min: -1000, max: 1000 },
  { index: 6, label: 'access-point RSSI (dBm)', min: -200, max: 100, integer: true },
];

const NAME = 'fields';

function reject(reason: string): DecodeResult {
  return { kind: 'rejection', reason, decoder: NAME };
}

/** True for the whitespace String.prototype.trim removes that can appear in a payload (ASCII). */
function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13);
}

/**
 * N of a `fieldN` key in text[from, to) (surrounding blanks ignored, N = 1 or 2 digits, any
 * case), else -1: /^field(\d{1,2})$/i on the trimmed key, without a regex or a substring.
 */
function fieldKeyIndex(text: string, from: number, to: number): number {
  while (from < to && isSpace(text.charCodeAt(from))) from++;
  while (to > from && isSpace(text.charCodeAt(to - 1))) to--;
  const n = to - from;
  if (n !== 6 && n !== 7) return -1;
  // `| 32` lower-cases an ASCII letter; only 'F'/'f' (etc.) map to each code below.
  if (
    (text.charCodeAt(from) | 32) !== 102 ||
    (text.charCodeAt(from + 1) | 32) !== 105 ||
    (text.charCodeAt(from + 2) | 32) !== 101 ||
    (text.charCodeAt(from + 3) | 32) !== 108 ||
    (text.charCodeAt(from + 4) | 32) !== 100
  ) {
    return -1;
  }
  let index = 0;
  for (let i = from + 5; i < to; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    index = index * 10 + digit;
  }
  return index;
}

/** text[from, to) without surrounding blanks, as one substring. */
function trimmedSlice(text: string, from: number, to: number): string {
  while (from < to && isSpace(text.charCodeAt(from))) from++;
  while (to > from && isSpace(text.charCodeAt(to - 1))) to--;
  return text.slice(from, to);
}

const MAX_FIELDS = 64;

/**
 * Splits `a=b&c=d` into field index -> raw value. When any key is `fieldN` the payload is keyed:
 * `fieldN` keys give the index and other keys (e.g. a firmware's `seq=`) are ignored. Without any
 * `fieldN` key, values count by position, as the original read them. The first value for an
 * index wins. One pass over the text, no intermediate strings: this runs for every message.
 */
export function splitFields(text: string): Array<string | undefined> | string {
  const keyed: Array<string | undefined> = [];
  const positional: string[] = [];
  let keyedPayload = false;
  let pairs = 0;
  let start = 0;
  const length = text.length;
  let nextEq = -1; // the first '=' at or after `start` (searched again only once passed: linear)
  while (start <= length) {
    let end = text.indexOf('&', start);
    if (end < 0) end = length;
    pairs++;
    if (pairs > MAX_FIELDS) {
      // Count the rest only for the message.
      for (let i = end; i < length; i++) if (text.charCodeAt(i) === 38) pairs++;
      return `too many fields (${pairs}, at most ${MAX_FIELDS})`;
    }
    if (nextEq < start) {
      nextEq = text.indexOf('=', start);
      if (nextEq < 0) nextEq = length + 1;
    }
    const eq = nextEq < end ? nextEq : -1;
    const value = trimmedSlice(text, eq >= 0 ? eq + 1 : start, end);
    positional.push(value);
    const key = eq >= 0 ? fieldKeyIndex(text, start, eq) : -1;
    if (key >= 0) {
      keyedPayload = true;
      if (keyed[key] === undefined) keyed[key] = value;
    }
    start = end + 1;
  }
  if (keyedPayload) return keyed;
  const fields: Array<string | undefined> = [undefined];
  for (const value of positional) fields.push(value);
  return fields;
}

function textField(value: string | undefined): string | undefined {
  if (value === undefined || value === '' || value === 'None') return undefined;
  return value.slice(0, MAX_TEXT_FIELD);
}

export const fieldsDecoder: Decoder = {
  name: NAME,
  decode(_topic: string, text: string): DecodeResult | null {
    // Not our format at all (e.g. JSON): let another decoder try.
    if (!text.includes('=')) return null;
    const split = splitFields(text);
    if (typeof split === 'string') return reject(split);

    const n = [0, 0, 0, 0, 0, 0];
    for (let i = 0; i < NUMERIC_FIELDS.length; i++) {
      const f = NUMERIC_FIELDS[i]!;
      const raw = split[f.index];
      if (raw === undefined || raw === '') return reject(`field${f.index} (${f.label}) is missing`);
      const value = parseDecimal(raw);
      if (value === undefined) return reject(`field${f.index} (${f.label}) is not a number: ${JSON.stringify(raw.slice(0, 40))}`);
      if ((f.min !== undefined && value < f.min) || (f.max !== undefined && value > f.max)) {
        return reject(`field${f.index} (${f.label}) out of range ${f.min}…${f.max}: ${value}`);
      }
      n[i] = f.integer ? Math.round(value) : value;
    }

    const name = split[7];
    if (name === undefined || name === '' || name === 'None') return reject('field7 (sensor name) is missing');
    if (name.length > MAX_TEXT_FIELD) return reject(`field7 (sensor name) is longer than ${MAX_TEXT_FIELD} characters`);
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(name)) return reject('field7 (sensor name) contains control characters');

    // One object literal of a fixed shape (a spread of a dynamically filled object was slow).
    const reading: Reading = {
      dewPointF: n[0]!,
      temperatureF: n[1]!,
      relHumidityPercent: n[2]!,
      battVoltage: n[3]!,
      battPercent: n[4]!,
      apRSSI: n[5]!,
      sensorName: name,
    };
    const location = textField(split[8]);
    const mac = textField(split[9]);
    const version = textField(split[10]);
    if (location !== undefined) reading.location = location;
    if (mac !== undefined) reading.macAddress = mac;
    if (version !== undefined) reading.softwareVersion = version;
    return { kind: 'reading', reading, decoder: NAME };
  },
};
