// Decoder for the original ECC firmware payload: `field1=47.10&field2=...&field7=ECCTH01[&field8..10]`.
// Better than the original, keys win over positions (`field2=` is the temperature wherever it
// stands); a pair without a `fieldN` key falls back to its position.
import { parseDecimal } from '../numbers.js';
import type { DecodeResult, Decoder, Reading } from './types.js';


const KEY_RE = /^field(\d{1,2})$/i;
const MAX_TEXT_FIELD = 128;

interface NumericField {
  index: number;
  column: keyof Reading;
  label: string;
  min?: number;
  max?: number;
  integer?: boolean;
}

const NUMERIC_FIELDS: readonly NumericField[] = [
  { index: 1, column: 'dewPointF', label: 'dew point (°F)', min: -150, max: 200 },
  { index: 2, column: 'temperatureF', label: 'temperature (°F)', min: -80, max: 200 },
  { index: 3, column: 'relHumidityPercent', label: 'relative humidity (%)', min: 0, max: 100 },
  { index: 4, column: 'battVoltage', label: 'battery voltage (V)', min: 0, max: 100 },
  { index: 5, column: 'battPercent', label: 'battery (%)', min: -1000, max: 1000 },
  { index: 6, column: 'apRSSI', label: 'access-point RSSI (dBm)', min: -200, max: 100, integer: true },
];

const NAME = 'fields';

function reject(reason: string): DecodeResult {
  return { kind: 'rejection', reason, decoder: NAME };
}

/**
 * Splits `a=b&c=d` into field index -> raw value. When any key is `fieldN` the payload is keyed:
 * `fieldN` keys give the index and other keys (e.g. a firmware's `seq=`) are ignored. Without any
 * `fieldN` key, values count by position, as the original read them.
 */
function splitFields(text: string): Map<number, string> | string {
  const fields = new Map<number, string>();
  const pairs = text.split('&');
  if (pairs.length > 64) return `too many fields (${pairs.length}, at most 64)`;
  const parsed = pairs.map((pair) => {
    const eq = pair.indexOf('=');
    const key = eq >= 0 ? pair.slice(0, eq).trim() : '';
    return { keyed: KEY_RE.exec(key), value: (eq >= 0 ? pair.slice(eq + 1) : pair).trim() };
  });
  const keyedPayload = parsed.some((p) => p.keyed !== null);
  parsed.forEach((p, position) => {
    const index = keyedPayload ? (p.keyed ? Number(p.keyed[1]) : undefined) : position + 1;
    if (index !== undefined && !fields.has(index)) fields.set(index, p.value);
  });
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

    const values: Partial<Reading> = {};
    for (const f of NUMERIC_FIELDS) {
      const raw = split.get(f.index);
      if (raw === undefined || raw === '') return reject(`field${f.index} (${f.label}) is missing`);
      let n = parseDecimal(raw);
      if (n === undefined) return reject(`field${f.index} (${f.label}) is not a number: ${JSON.stringify(raw.slice(0, 40))}`);
      if ((f.min !== undefined && n < f.min) || (f.max !== undefined && n > f.max)) {
        return reject(`field${f.index} (${f.label}) out of range ${f.min}…${f.max}: ${n}`);
      }
      if (f.integer) n = Math.round(n);
      (values as Record<string, number>)[f.column] = n;
    }

    const name = split.get(7);
    if (name === undefined || name === '' || name === 'None') return reject('field7 (sensor name) is missing');
    if (name.length > MAX_TEXT_FIELD) return reject(`field7 (sensor name) is longer than ${MAX_TEXT_FIELD} characters`);
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(name)) return reject('field7 (sensor name) contains control characters');

    const reading: Reading = {
      ...(values as Omit<Reading, 'sensorName'>),
      sensorName: name,
    };
    const location = textField(split.get(8));
    const mac = textField(split.get(9));
    const version = textField(split.get(10));
    if (location !== undefined) reading.location = location;
    if (mac !== undefined) reading.macAddress = mac;
    if (version !== undefined) reading.softwareVersion = version;
    return { kind: 'reading', reading, decoder: NAME };
  },
};
