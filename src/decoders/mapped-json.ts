// Generic JSON (`json` format): values found where the --mapping file says, for firmwares that
// have no decoder of their own. The first mapping entry whose topic filter matches is used.
import { numberOf, parseJson, stringOf, valueAt } from './json-text.js';
import type { MappedValue, SensorMapping } from './mapping-file.js';
import { rejected, singleReading, type Measured } from './measurements.js';
import { topicMatches } from './topic-filter.js';
import type { DecodeResult, FirmwareDecoder } from './types.js';

const NAME = 'json';

function nameOf(m: SensorMapping, topic: string, json: unknown): string | undefined {
  if ('fixed' in m.name) return m.name.fixed;
  if ('topicLevel' in m.name) return topic.split('/')[m.name.topicLevel - 1];
  const v = valueAt(json, m.name.path);
  return typeof v === 'number' ? String(v) : stringOf(v);
}

/** The mapped number, `missing` when the path is absent/null, or a rejection reason. */
function read(json: unknown, v: MappedValue | undefined, label: string): number | undefined | string {
  if (!v) return undefined;
  const raw = valueAt(json, v.path);
  if (raw === undefined || raw === null) return undefined;
  const n = numberOf(raw);
  return n === undefined ? `${label} at ${v.path.join('.')} is not a number` : n;
}

export function mappedJsonDecoder(sensors: readonly SensorMapping[]): FirmwareDecoder {
  const entryFor = (topic: string): SensorMapping | undefined => sensors.find((s) => topicMatches(s.filter, topic));
  return {
    name: NAME,
    format: 'json',
    matches(levels) {
      return entryFor(levels.join('/')) !== undefined;
    },
    decode(topic: string, text: string): DecodeResult {
      const entry = entryFor(topic);
      if (!entry) return rejected(NAME, 'no --mapping entry matches this topic');
      const parsed = parseJson(text);
      if (!parsed.ok) return rejected(NAME, parsed.reason);
      const json = parsed.value;
      const m: Measured = { unit: entry.temperature?.unit === 'F' ? 'F' : 'C' };
      const values: Array<[keyof Measured, MappedValue | undefined, string]> = [
        ['temperature', entry.temperature, 'temperature'],
        ['humidity', entry.humidity, 'humidity'],
        ['dewPoint', entry.dewPoint, 'dew point'],
        ['battVoltage', entry.batteryVoltage, 'battery voltage'],
        ['battPercent', entry.batteryPercent, 'battery'],
        ['rssi', entry.rssi, 'RSSI'],
      ];
      for (const [key, mapped, label] of values) {
        const n = read(json, mapped, label);
        if (typeof n === 'string') return rejected(NAME, n);
        if (n === undefined) continue;
        let value = n;
        if (key === 'battVoltage' && mapped?.unit === 'mV') value = n / 1000;
        // A dew point in the other unit than the temperature: bring it to the temperature's.
        if (key === 'dewPoint' && (mapped?.unit ?? 'C') !== m.unit) value = m.unit === 'F' ? (n * 9) / 5 + 32 : ((n - 32) * 5) / 9;
        (m as Record<string, number>)[key] = value;
      }
      const name = nameOf(entry, topic, json);
      if (name === undefined) return rejected(NAME, 'no sensor name where the mapping says');
      return singleReading(NAME, name, m, 'no temperature or humidity at the mapped paths');
    },
  };
}
