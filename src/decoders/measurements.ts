// Units, derived values and physical limits shared by the firmware decoders: everything is stored
// as the original listener stored it (°F, %, V, dBm), so its tools keep working. A value outside
// what a room, a fridge or an attic can show is a broken sensor or a wrong unit: the message is
// rejected with that reason rather than stored.
import { numberOf, type JsonObject } from './json-text.js';
import type { DecodeResult, Reading, ReadingPart } from './types.js';

export const TEMPERATURE_F_RANGE = [-100, 300] as const;
export const MAX_SENSOR_NAME = 128;

/** Measured values before conversion; undefined = the payload does not carry it. */
export interface Measured {
  temperature?: number;
  /** Unit of temperature and dewPoint. */
  unit?: 'C' | 'F';
  humidity?: number;
  dewPoint?: number;
  battVoltage?: number;
  battPercent?: number;
  rssi?: number;
}

type Quantity = Exclude<keyof Measured, 'unit'>;

/** The numbers of a firmware's JSON object, by the key each firmware gives a quantity. */
export function measuredFrom(o: JsonObject, keys: Partial<Record<Quantity, string>>, unit: 'C' | 'F' = 'C'): Measured {
  const m: Measured = { unit };
  for (const q of Object.keys(keys) as Quantity[]) {
    const n = numberOf(o[keys[q]!]);
    if (n !== undefined) m[q] = n;
  }
  return m;
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export function celsiusToF(c: number): number {
  return round((c * 9) / 5 + 32, 3);
}

export function fahrenheitToC(f: number): number {
  return round(((f - 32) * 5) / 9, 3);
}

/**
 * Dew point in °C by the Magnus formula with the Alduchov–Eskridge (1996) constants
 * (a = 17.625, b = 243.04 °C): within 0.4 °C of the exact value from -40 to 50 °C.
 * Undefined for a humidity of 0 (no dew point exists).
 */
export function dewPointC(tempC: number, rhPercent: number): number | undefined {
  if (!(rhPercent > 0)) return undefined;
  const a = 17.625;
  const b = 243.04;
  const g = Math.log(rhPercent / 100) + (a * tempC) / (b + tempC);
  const dp = (b * g) / (a - g);
  return Number.isFinite(dp) ? round(dp, 2) : undefined;
}

/** Values in stored units, or the reason they cannot be stored. */
export function toPart(m: Measured): ReadingPart | string {
  const part: ReadingPart = {};
  const unit = m.unit ?? 'C';
  if (m.temperature !== undefined) {
    const f = unit === 'C' ? celsiusToF(m.temperature) : m.temperature;
    if (f < TEMPERATURE_F_RANGE[0] || f > TEMPERATURE_F_RANGE[1]) {
      return `temperature ${m.temperature} °${unit} is outside the physical range ${TEMPERATURE_F_RANGE[0]}…${TEMPERATURE_F_RANGE[1]} °F`;
    }
    part.temperatureF = f;
  }
  if (m.humidity !== undefined) {
    if (m.humidity < 0 || m.humidity > 100) return `humidity ${m.humidity} % is outside 0…100 %`;
    part.relHumidityPercent = m.humidity;
  }
  if (m.dewPoint !== undefined) {
    const f = unit === 'C' ? celsiusToF(m.dewPoint) : m.dewPoint;
    if (f < TEMPERATURE_F_RANGE[0] || f > TEMPERATURE_F_RANGE[1]) return `dew point ${m.dewPoint} °${unit} is outside the physical range`;
    part.dewPointF = f;
  }
  if (m.battPercent !== undefined) {
    if (m.battPercent < 0 || m.battPercent > 100) return `battery ${m.battPercent} % is outside 0…100 %`;
    part.battPercent = m.battPercent;
  }
  if (m.battVoltage !== undefined) {
    if (m.battVoltage < 0 || m.battVoltage > 100) return `battery voltage ${m.battVoltage} V is outside 0…100 V`;
    part.battVoltage = m.battVoltage;
  }
  if (m.rssi !== undefined) {
    if (m.rssi < -200 || m.rssi > 0) return `RSSI ${m.rssi} dBm is outside -200…0 dBm`;
    part.apRSSI = Math.round(m.rssi);
  }
  return part;
}

/** True when the part holds what makes a row worth storing: a temperature or a humidity. */
export function hasClimate(part: ReadingPart): boolean {
  return part.temperatureF !== undefined || part.relHumidityPercent !== undefined;
}

/** A full row from a part; the dew point is computed when the firmware did not send one. */
export function readingFromPart(part: ReadingPart, sensorName: string): Reading {
  let dew = part.dewPointF ?? null;
  if (dew === null && part.temperatureF !== undefined && part.relHumidityPercent !== undefined) {
    const c = dewPointC(fahrenheitToC(part.temperatureF), part.relHumidityPercent);
    if (c !== undefined) dew = celsiusToF(c);
  }
  return {
    dewPointF: dew,
    temperatureF: part.temperatureF ?? null,
    relHumidityPercent: part.relHumidityPercent ?? null,
    battVoltage: part.battVoltage ?? null,
    battPercent: part.battPercent ?? null,
    apRSSI: part.apRSSI ?? null,
    sensorName,
  };
}

/**
 * A sensor name taken from a topic or a payload: control characters removed, blanks trimmed,
 * capped at MAX_SENSOR_NAME characters. Empty when nothing usable is left.
 */
export function cleanSensorName(raw: string): string {
  // eslint-disable-next-line no-control-regex
  const s = raw.replace(/[\u0000-\u001f\u007f-\u009f]/g, '').trim();
  return s.length > MAX_SENSOR_NAME ? s.slice(0, MAX_SENSOR_NAME) : s;
}

/** A whole reading in one message: convert, check, name; ignored when it has no climate value. */
export function singleReading(decoder: string, name: string, m: Measured, ignoredWhy: string): DecodeResult {
  const sensorName = cleanSensorName(name);
  if (sensorName === '') return { kind: 'rejection', reason: 'no sensor name in the topic or payload', decoder };
  const part = toPart(m);
  if (typeof part === 'string') return { kind: 'rejection', reason: part, decoder };
  if (!hasClimate(part)) return { kind: 'ignored', reason: ignoredWhy, decoder };
  return { kind: 'reading', reading: readingFromPart(part, sensorName), decoder };
}

export function ignored(decoder: string, reason: string): DecodeResult {
  return { kind: 'ignored', reason, decoder };
}

export function rejected(decoder: string, reason: string): DecodeResult {
  return { kind: 'rejection', reason, decoder };
}

/** One or some values of a device that publishes them apart: merged into a reading later. */
export function partOf(decoder: string, name: string, m: Measured): DecodeResult {
  const sensorName = cleanSensorName(name);
  if (sensorName === '') return { kind: 'rejection', reason: 'no sensor name in the topic', decoder };
  const part = toPart(m);
  if (typeof part === 'string') return { kind: 'rejection', reason: part, decoder };
  return { kind: 'part', sensorName, part, decoder };
}

/** A plain-number payload ("21.38"), or the rejection saying why it is not one. */
export function plainNumber(decoder: string, text: string): number | DecodeResult {
  const t = text.trim();
  if (t.length > 32 || !/^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/.test(t)) {
    return { kind: 'rejection', reason: `expected a plain number, got ${JSON.stringify(t.slice(0, 40))}`, decoder };
  }
  const n = Number(t);
  return Number.isFinite(n) ? n : { kind: 'rejection', reason: 'number out of range', decoder };
}
