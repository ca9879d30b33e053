// The `--mapping <file>` file: for sensors whose firmware has no decoder here, where in their JSON
// each value is. Read and checked once at start-up; any mistake is a ConfigError (exit 2) naming
// the entry and field to fix. Example:
//   {"sensors": [{"topic": "office/+/climate", "name": {"topicLevel": 2},
//     "temperature": {"path": "env.temp", "unit": "C"}, "humidity": {"path": "env.rh"},
//     "batteryVoltage": {"path": "bat", "unit": "mV"}}]}
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config.js';
import { isObject, parseJson, type JsonObject } from './json-text.js';
import { compileFilter, filterProblem } from './topic-filter.js';

export interface MappedValue {
  path: readonly string[];
  /** Temperature/dew point: C or F; battery voltage: V or mV; others: none. */
  unit?: string;
}

export interface SensorMapping {
  topic: string;
  filter: readonly string[];
  /** The sensor name: a topic level (1 = first), a JSON path, or a fixed name. */
  name: { topicLevel: number } | { path: readonly string[] } | { fixed: string };
  temperature?: MappedValue;
  humidity?: MappedValue;
  dewPoint?: MappedValue;
  batteryVoltage?: MappedValue;
  batteryPercent?: MappedValue;
  rssi?: MappedValue;
}

export interface MappingFile {
  file: string;
  sensors: readonly SensorMapping[];
}

const VALUE_UNITS: Record<string, readonly string[] | undefined> = {
  temperature: ['C', 'F'],
  dewPoint: ['C', 'F'],
  batteryVoltage: ['V', 'mV'],
  humidity: undefined,
  batteryPercent: undefined,
  rssi: undefined,
};
const KNOWN_KEYS = new Set(['topic', 'name', ...Object.keys(VALUE_UNITS)]);

function path(text: unknown, where: string): readonly string[] {
  if (typeof text !== 'string' || text.trim() === '') throw new Error(`${where}.path must be a non-empty string like "env.temp"`);
  const parts = text.split('.');
  if (parts.some((p) => p === '')) throw new Error(`${where}.path ${JSON.stringify(text)} has an empty part`);
  return parts;
}

function mappedValue(key: string, v: unknown, where: string): MappedValue {
  if (!isObject(v)) throw new Error(`${where} must be an object like {"path": "a.b"}`);
  const units = VALUE_UNITS[key];
  const out: MappedValue = { path: path(v['path'], where) };
  if (v['unit'] !== undefined) {
    if (!units || typeof v['unit'] !== 'string' || !units.includes(v['unit'])) {
      throw new Error(units ? `${where}.unit must be ${units.map((u) => JSON.stringify(u)).join(' or ')}` : `${where} takes no unit`);
    }
    out.unit = v['unit'];
  }
  return out;
}

function nameSource(v: unknown, where: string): SensorMapping['name'] {
  if (!isObject(v)) throw new Error(`${where} must be {"topicLevel": N}, {"path": "a.b"} or {"fixed": "Name"}`);
  const keys = Object.keys(v);
  if (keys.length !== 1) throw new Error(`${where} must have exactly one of topicLevel, path, fixed`);
  if ('topicLevel' in v) {
    const n = v['topicLevel'];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 64) throw new Error(`${where}.topicLevel must be a whole number from 1 (the first level)`);
    return { topicLevel: n };
  }
  if ('path' in v) return { path: path(v['path'], where) };
  if ('fixed' in v && typeof v['fixed'] === 'string' && v['fixed'].trim() !== '') return { fixed: v['fixed'].trim() };
  throw new Error(`${where} must be {"topicLevel": N}, {"path": "a.b"} or {"fixed": "Name"}`);
}

function sensorMapping(v: unknown, where: string): SensorMapping {
  if (!isObject(v)) throw new Error(`${where} must be an object`);
  const e: JsonObject = v;
  for (const k of Object.keys(e)) if (!KNOWN_KEYS.has(k)) throw new Error(`${where} has an unknown key ${JSON.stringify(k)}`);
  const topic = e['topic'];
  if (typeof topic !== 'string') throw new Error(`${where}.topic must be a topic filter string`);
  const problem = filterProblem(topic);
  if (problem) throw new Error(`${where}.topic ${JSON.stringify(topic)} ${problem}`);
  const out: SensorMapping = { topic, filter: compileFilter(topic), name: nameSource(e['name'], `${where}.name`) };
  if ('topicLevel' in out.name && !topic.includes('#') && out.name.topicLevel > out.filter.length) {
    throw new Error(`${where}.name.topicLevel ${out.name.topicLevel} is past the topic's ${out.filter.length} levels`);
  }
  for (const key of Object.keys(VALUE_UNITS)) {
    if (e[key] !== undefined) (out as unknown as Record<string, MappedValue>)[key] = mappedValue(key, e[key], `${where}.${key}`);
  }
  if (!out.temperature && !out.humidity) throw new Error(`${where} needs a temperature or a humidity path`);
  return out;
}

/** Parses the text of a mapping file; throws Error with the place of the first mistake. */
export function parseMapping(text: string): SensorMapping[] {
  const parsed = parseJson(text.replace(/^\uFEFF/, ''));
  if (!parsed.ok) throw new Error(parsed.reason);
  const root = parsed.value;
  if (!isObject(root) || !Array.isArray(root['sensors'])) throw new Error('expected {"sensors": [ ... ]} at the top');
  const sensors = root['sensors'] as unknown[];
  if (sensors.length === 0) throw new Error('"sensors" is empty');
  if (sensors.length > 1000) throw new Error('more than 1000 entries in "sensors"');
  return sensors.map((s, i) => sensorMapping(s, `sensors[${i}]`));
}

export function readMappingFile(file: string): MappingFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(`--mapping ${file}: cannot read it (${code === 'ENOENT' ? 'no such file' : code ?? String(err)})`);
  }
  try {
    return { file, sensors: parseMapping(text) };
  } catch (err) {
    throw new ConfigError(`--mapping ${file}: ${(err as Error).message}`);
  }
}
