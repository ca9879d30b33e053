// Zigbee2MQTT: `zigbee2mqtt/<friendly name>` with the device state as one JSON object
// (`temperature` °C, `humidity` %, `battery` %, `voltage` mV). `linkquality` is a 0-255 link
// quality indicator, not an RSSI, so apRSSI stays NULL. The bridge's own topics and the /set,
// /get and /availability topics carry no reading.
import { isObject, parseJsonObject } from './json-text.js';
import { ignored, measuredFrom, rejected, singleReading } from './measurements.js';
import type { DecodeResult, FirmwareDecoder } from './types.js';

const NAME = 'z2m';
const NOT_STATE = new Set(['set', 'get', 'availability']);
const Z2M_KEYS = { temperature: 'temperature', humidity: 'humidity', battPercent: 'battery', battVoltage: 'voltage' } as const;

export const z2mDecoder: FirmwareDecoder = {
  name: NAME,
  format: 'z2m',
  matches(levels) {
    return levels[0] === 'zigbee2mqtt' && levels.length >= 2;
  },
  decode(topic: string, text: string): DecodeResult {
    const slash = topic.indexOf('/');
    const device = slash >= 0 ? topic.slice(slash + 1) : '';
    if (device === '') return ignored(NAME, 'no device in the topic');
    if (device === 'bridge' || device.startsWith('bridge/')) return ignored(NAME, 'Zigbee2MQTT bridge message');
    const last = device.slice(device.lastIndexOf('/') + 1);
    if (NOT_STATE.has(last)) return ignored(NAME, `Zigbee2MQTT /${last} message`);
    // A group or a device whose payload is a bare state ("online", "ON") is not a reading either.
    if (text.charCodeAt(0) !== 123) return ignored(NAME, 'not a JSON device state');
    const parsed = parseJsonObject(text);
    if (!parsed.ok) return rejected(NAME, parsed.reason);
    const s = parsed.value;
    const m = measuredFrom(s, Z2M_KEYS);
    if (m.battVoltage !== undefined) m.battVoltage /= 1000; // mV
    const result = singleReading(NAME, device, m, 'no temperature or humidity in the device state');
    if (result.kind === 'reading' && isObject(s['device'])) {
      // With `device_info` on, Z2M adds the device's IEEE address: the row's MAC metadata.
      const ieee = s['device']['ieeeAddr'];
      if (typeof ieee === 'string' && ieee.length <= 32) result.reading.macAddress = ieee;
    }
    return result;
  },
};
