// ESPHome (MQTT component): `<node>/sensor/<sensor object id>/state`, one plain number per
// message (merged into one reading of the node by ReadingMerger). What a value is comes from the
// sensor's name, as users name them in their YAML: `..._temperature`, `..._humidity`,
// `..._battery` (% — or V when the name says volt), `wifi_signal`/`..._rssi` (dBm),
// `..._dew_point`. ESPHome publishes °C unless a filter converts it.
// `<node>/status` (online/offline), `<node>/debug` and other components carry no reading.
import { ignored, partOf, plainNumber, type Measured } from './measurements.js';
import type { DecodeResult, FirmwareDecoder } from './types.js';

const NAME = 'esphome';
/** ESPHome's MQTT components: `<node>/<component>/<name>/state|command`. */
const COMPONENTS = new Set(['sensor', 'binary_sensor', 'text_sensor', 'switch', 'light', 'fan', 'cover', 'climate', 'number', 'select', 'button', 'lock', 'valve', 'text']);

type Quantity = 'temperature' | 'humidity' | 'dewPoint' | 'battVoltage' | 'battPercent' | 'rssi';

/** What a sensor measures, from its object id; dew point and voltage are tested first. */
export function quantityOf(sensor: string): Quantity | undefined {
  const s = sensor.toLowerCase();
  // The ESP chip's own temperature (`internal_temperature`, `cpu_temp` ...) is not the room's.
  if (/internal|cpu|chip|soc|core|esp32/.test(s)) return undefined;
  if (s.includes('dew')) return 'dewPoint';
  if (s.includes('batt') || s.includes('vbat')) return s.includes('volt') || s.endsWith('_v') || s.includes('vbat') ? 'battVoltage' : 'battPercent';
  if (s.includes('temp')) return 'temperature';
  if (s.includes('humid')) return 'humidity';
  if (s.includes('rssi') || s.includes('wifi_signal') || s.includes('signal_strength')) return 'rssi';
  return undefined;
}

export const esphomeDecoder: FirmwareDecoder = {
  name: NAME,
  format: 'esphome',
  matches(levels) {
    return levels.length === 4 && COMPONENTS.has(levels[1]!) && (levels[3] === 'state' || levels[3] === 'command');
  },
  decode(topic: string, text: string): DecodeResult {
    const levels = topic.split('/');
    if (levels.length !== 4 || levels[1] !== 'sensor' || levels[3] !== 'state') {
      return ignored(NAME, `ESPHome ${levels.slice(1).join('/') || 'node'} message (not a sensor state)`);
    }
    const quantity = quantityOf(levels[2]!);
    if (!quantity) return ignored(NAME, `ESPHome sensor ${levels[2]} is not a temperature, humidity, battery or RSSI`);
    const n = plainNumber(NAME, text);
    if (typeof n !== 'number') return n;
    const m: Measured = { unit: 'C' };
    if (quantity === 'temperature') m.temperature = n;
    else if (quantity === 'humidity') m.humidity = n;
    else if (quantity === 'dewPoint') m.dewPoint = n;
    else if (quantity === 'battVoltage') m.battVoltage = n;
    else if (quantity === 'battPercent') m.battPercent = n;
    else m.rssi = n;
    return partOf(NAME, levels[0]!, m);
  },
};
