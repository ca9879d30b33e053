// OpenMQTTGateway and Theengs Gateway (BLE sensors decoded by Theengs Decoder):
// `home/<gateway>/BTtoMQTT/<MAC>` with `{"id": "A4:C1:38:..", "name": "ATC_A2E224",
// "model": "LYWSD03MMC", "tempc": 21.5, "hum": 48.6, "batt": 81, "volt": 2.85, "rssi": -74}`.
// The sensor is named by its advertised `name`, else by model and MAC, else by the MAC; the MAC
// is kept as the sensor's MAC metadata. The gateways' other topics (LWT, SYStoMQTT, ...) and BLE
// devices without climate values carry no reading.
import { numberOf, parseJsonObject, stringOf } from './json-text.js';
import { ignored, measuredFrom, rejected, singleReading, type Measured } from './measurements.js';
import type { DecodeResult, FirmwareDecoder } from './types.js';

const NAME = 'omg';
const OMG_KEYS = { temperature: 'tempc', humidity: 'hum', battPercent: 'batt', battVoltage: 'volt', rssi: 'rssi' } as const;

export const omgDecoder: FirmwareDecoder = {
  name: NAME,
  format: 'omg',
  matches(levels) {
    return levels.includes('BTtoMQTT') || levels.some((l) => l.endsWith('toMQTT')) || (levels.length >= 2 && levels[levels.length - 1] === 'LWT' && levels[0] === 'home');
  },
  decode(topic: string, text: string): DecodeResult {
    const levels = topic.split('/');
    const bt = levels.indexOf('BTtoMQTT');
    if (bt < 0) return ignored(NAME, `gateway ${levels.slice(1).join('/')} message (not BTtoMQTT)`);
    if (text.charCodeAt(0) !== 123) return ignored(NAME, 'BTtoMQTT message that is not a device JSON');
    const parsed = parseJsonObject(text);
    if (!parsed.ok) return rejected(NAME, parsed.reason);
    const d = parsed.value;
    const mac = stringOf(d['id']) ?? stringOf(d['mac']) ?? (levels.length > bt + 1 ? levels[levels.length - 1] : undefined);
    const model = stringOf(d['model']) ?? stringOf(d['model_id']);
    const name = stringOf(d['name']) ?? (model && mac ? `${model} ${mac}` : mac ?? model ?? '');
    // tempc when the device has it, else tempf.
    const m: Measured = measuredFrom(d, OMG_KEYS);
    if (m.temperature === undefined) {
      const f = numberOf(d['tempf']);
      if (f !== undefined) Object.assign(m, { unit: 'F', temperature: f });
    }
    const result = singleReading(NAME, name, m, 'BLE device without temperature or humidity');
    if (result.kind === 'reading' && mac !== undefined && mac.length <= 32) result.reading.macAddress = mac;
    return result;
  },
};
