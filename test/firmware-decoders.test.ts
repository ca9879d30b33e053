// Firmware decoders, table-tested with payloads from each project's own documentation or from
// captures its users published (source beside each fixture), through MessageDecoder as the
// listener uses it: routing by --topic format or `auto`, units, ranges, ignored messages.
import { describe, expect, it } from 'vitest';
import { MessageDecoder, type DecodeResult, type Reading } from '../src/decoders/index.js';
import { celsiusToF, cleanSensorName, dewPointC } from '../src/decoders/measurements.js';
import { parseMapping } from '../src/decoders/mapping-file.js';

const auto = new MessageDecoder([{ subscription: '#', format: 'auto' }]);
const enc = (s: string) => Buffer.from(s, 'utf8');
const decode = (topic: string, payload: string, d = auto): DecodeResult => d.decode(topic, enc(payload));

function reading(r: DecodeResult): Reading {
  if (r.kind !== 'reading') throw new Error(`expected a reading, got ${JSON.stringify(r)}`);
  return r.reading;
}

interface Fixture {
  firmware: string;
  source: string;
  topic: string;
  payload: string;
  expect: Partial<Reading> | Array<Partial<Reading>> | { part: Record<string, number>; sensorName: string };
}

const FIXTURES: Fixture[] = [
  {
    firmware: 'tasmota AM2301',
    source: 'https://tasmota.github.io/docs/AM2301 ("Sensor sends a tele/%topic%/SENSOR JSON response")',
    topic: 'tele/sonoff-th/SENSOR',
    payload: '{"Time":"2019-01-01T00:00:00","AM2301":{"Temperature":24.6,"Humidity":58.2},"TempUnit":"C"}',
    // Dew point: Magnus (Alduchov–Eskridge) of 24.6 °C / 58.2 % = 15.84 °C.
    expect: { sensorName: 'sonoff-th', temperatureF: 76.28, relHumidityPercent: 58.2, dewPointF: 60.512, battVoltage: null, battPercent: null, apRSSI: null },
  },
  {
    firmware: 'tasmota DS18x20 x2',
    source: 'https://tasmota.github.io/docs/DS18x20/ (Multiple Sensors: "DS18B20-1":{"Id":"00000566CC39","Temperature":13.3}; the second block completed in the same shape)',
    topic: 'tele/boiler/SENSOR',
    payload: '{"Time":"2021-01-02T09:09:44","DS18B20-1":{"Id":"00000566CC39","Temperature":13.3},"DS18B20-2":{"Id":"0000056A6A4F","Temperature":13.6},"TempUnit":"C"}',
    expect: [
      { sensorName: 'boiler/DS18B20-1', temperatureF: 55.94, relHumidityPercent: null, dewPointF: null },
      { sensorName: 'boiler/DS18B20-2', temperatureF: 56.48, relHumidityPercent: null, dewPointF: null },
    ],
  },
  {
    firmware: 'tasmota SI7021 in °F with DewPoint',
    source: 'Tasmota SENSOR shape (https://tasmota.github.io/docs/Commands/#setoption8 TempUnit F); DewPoint as Tasmota >= 8 sends it',
    topic: 'garage/tele/SENSOR',
    payload: '{"Time":"2023-03-01T10:00:00","SI7021":{"Temperature":68.0,"Humidity":40.0,"DewPoint":43.2},"TempUnit":"F"}',
    expect: { sensorName: 'garage', temperatureF: 68, relHumidityPercent: 40, dewPointF: 43.2 },
  },
  {
    firmware: 'z2m WSDCGQ11LM',
    source: 'zigbee2mqtt 1.6.0 log "MQTT publish: topic \'zigbee2mqtt/0x00158d00036c1821\'" (https://pastebin.com/CX6XrfY3); exposes per https://www.zigbee2mqtt.io/devices/WSDCGQ11LM.html',
    topic: 'zigbee2mqtt/0x00158d00036c1821',
    payload: '{"temperature":22.75,"linkquality":97,"humidity":55.43,"pressure":1000.6,"battery":86,"voltage":2985}',
    expect: { sensorName: '0x00158d00036c1821', temperatureF: 72.95, relHumidityPercent: 55.43, battPercent: 86, battVoltage: 2.985, apRSSI: null },
  },
  {
    firmware: 'z2m friendly name with slashes',
    source: 'Zigbee2MQTT friendly names may contain "/" (https://www.zigbee2mqtt.io/guide/usage/mqtt_topics_and_messages.html)',
    topic: 'zigbee2mqtt/upstairs/bedroom/climate',
    payload: '{"battery":100,"humidity":47.1,"linkquality":120,"temperature":19.4,"voltage":3100}',
    expect: { sensorName: 'upstairs/bedroom/climate', temperatureF: 66.92, relHumidityPercent: 47.1, battVoltage: 3.1 },
  },
  {
    firmware: 'shelly plus H&T NotifyFullStatus',
    source: 'Shelly Plus H&T status via MQTT (https://gist.github.com/NelsonMinar/494a0f53785c20290b395639548349fa); frame per https://shelly-api-docs.shelly.cloud/gen2/General/Notifications',
    topic: 'shellyplusht-b8d61a8b17cc/events/rpc',
    payload: JSON.stringify({
      src: 'shellyplusht-b8d61a8b17cc', dst: 'shellyplusht-b8d61a8b17cc/events', method: 'NotifyFullStatus',
      params: {
        ts: 1680962879.62, ble: {}, cloud: { connected: false },
        'devicepower:0': { id: 0, battery: { V: 0.43, percent: 0 }, external: { present: true } },
        ht_ui: {}, 'humidity:0': { id: 0, rh: 42.2 }, mqtt: { connected: true },
        sys: { mac: 'B8D61A8B17CC', restart_required: false, uptime: 3, wakeup_period: 600 },
        'temperature:0': { id: 0, tC: 19.8, tF: 67.6 },
        wifi: { sta_ip: '192.168.3.183', status: 'got ip', ssid: 'winos', rssi: -60 },
      },
    }),
    expect: { sensorName: 'shellyplusht-b8d61a8b17cc', temperatureF: 67.64, relHumidityPercent: 42.2, battVoltage: 0.43, battPercent: 0 },
  },
  {
    firmware: 'shelly gen2 NotifyStatus (changed value only)',
    source: 'NotifyStatus "carries information about the changes" (https://shelly-api-docs.shelly.cloud/gen2/General/Notifications)',
    topic: 'shellyplusht-b8d61a8b17cc/events/rpc',
    payload: '{"src":"shellyplusht-b8d61a8b17cc","dst":"shellyplusht-b8d61a8b17cc/events","method":"NotifyStatus","params":{"ts":1680963000.1,"humidity:0":{"id":0,"rh":43.1}}}',
    expect: { part: { relHumidityPercent: 43.1 }, sensorName: 'shellyplusht-b8d61a8b17cc' },
  },
  {
    firmware: 'shelly gen2 status topic',
    source: 'Temperature component status {"id":0,"tC":..,"tF":..} (https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/Temperature)',
    topic: 'shellyhtg3-84fce63a1f2c/status/temperature:0',
    payload: '{"id":0,"tC":21.9,"tF":71.4}',
    expect: { part: { temperatureF: 71.42 }, sensorName: 'shellyhtg3-84fce63a1f2c' },
  },
  {
    firmware: 'shelly gen1 H&T',
    source: 'Shelly H&T gen 1 MQTT: shellies/shellyht-<deviceid>/sensor/temperature|humidity|battery (https://shelly-api-docs.shelly.cloud/gen1/#shelly-h-amp-t-mqtt)',
    topic: 'shellies/shellyht-6A9C3B/sensor/temperature',
    payload: '22.38',
    expect: { part: { temperatureF: 72.284 }, sensorName: 'shellyht-6A9C3B' },
  },
  {
    firmware: 'esphome',
    source: 'ESPHome MQTT state topic <TOPIC_PREFIX>/sensor/<COMPONENT_NAME>/state (https://esphome.io/components/mqtt.html)',
    topic: 'livingroom-node/sensor/livingroom_humidity/state',
    payload: '48.7',
    expect: { part: { relHumidityPercent: 48.7 }, sensorName: 'livingroom-node' },
  },
  {
    firmware: 'esphome wifi signal',
    source: 'ESPHome wifi_signal sensor reports dBm (https://esphome.io/components/sensor/wifi_signal.html)',
    topic: 'livingroom-node/sensor/wifi_signal/state',
    payload: '-63',
    expect: { part: { apRSSI: -63 }, sensorName: 'livingroom-node' },
  },
  {
    firmware: 'theengs LYWSD03MMC (PVVX)',
    source: 'Theengs Gateway capture (https://huggingface.co/datasets/maxerbox/temperature_digital_twin row 1); properties per theengs/decoder src/devices/LYWSD03MMC_PVVX_json.h',
    topic: 'home/TheengsGateway/BTtoMQTT/A4C138A2E224',
    payload: '{"id":"A4:C1:38:A2:E2:24","rssi":-91,"name":"FLB Lavatory","brand":"Xiaomi","model":"TH Sensor","model_id":"LYWSD03MMC/MJWSD05MMC_PVVX","type":"THB","tempc":28.53,"tempf":83.354,"hum":50.62,"batt":76,"volt":2.811,"mac":"A4:C1:38:A2:E2:24"}',
    expect: { sensorName: 'FLB Lavatory', temperatureF: 83.354, relHumidityPercent: 50.62, battPercent: 76, battVoltage: 2.811, apRSSI: -91, macAddress: 'A4:C1:38:A2:E2:24' },
  },
  {
    firmware: 'omg without name',
    source: 'OpenMQTTGateway BTtoMQTT JSON (https://docs.openmqttgateway.com/use/ble.html), a sensor without an advertised name',
    topic: 'home/OMG_ESP32_BLE/BTtoMQTT/582D3430A9E1',
    payload: '{"id":"58:2D:34:30:A9:E1","mac_type":0,"model":"LYWSD02","tempc":23.7,"tempf":74.66,"hum":41,"rssi":-70}',
    expect: { sensorName: 'LYWSD02 58:2D:34:30:A9:E1', temperatureF: 74.66, relHumidityPercent: 41, apRSSI: -70 },
  },
];

describe('firmware payloads from their own documentation', () => {
  it.each(FIXTURES.map((f) => [f.firmware, f] as const))('%s', (_name, f) => {
    const r = decode(f.topic, f.payload);
    if (Array.isArray(f.expect)) {
      expect(r.kind).toBe('readings');
      const readings = r.kind === 'readings' ? r.readings : [];
      expect(readings).toHaveLength(f.expect.length);
      f.expect.forEach((e, i) => expect(readings[i]).toMatchObject(e));
    } else if ('part' in f.expect) {
      expect(r).toMatchObject({ kind: 'part', part: f.expect.part, sensorName: f.expect.sensorName });
    } else {
      expect(reading(r)).toMatchObject(f.expect);
    }
    expect(f.source).not.toBe('');
  });

  it('the same payloads decode the same with the format named on the route', () => {
    const forced: Array<[string, string, string]> = [
      ['tasmota', 'tele/sonoff-th/SENSOR', FIXTURES[0]!.payload],
      ['z2m', 'zigbee2mqtt/0x00158d00036c1821', FIXTURES[3]!.payload],
      ['omg', 'home/TheengsGateway/BTtoMQTT/A4C138A2E224', FIXTURES[11]!.payload],
    ];
    for (const [format, topic, payload] of forced) {
      const d = new MessageDecoder([{ subscription: topic, format: format as 'z2m' }, { subscription: 'other', format: 'ecc' }]);
      expect(decode(topic, payload, d)).toEqual(decode(topic, payload));
    }
  });
});

describe('messages that carry no reading are ignored, not rejected', () => {
  const cases: Array<[string, string, string]> = [
    // https://tasmota.github.io/docs/JSON-Status-Responses/ (STATE); ENERGY-only SENSOR of a Sonoff POW
    ['tasmota STATE', 'tele/sonoff/STATE', '{"Time":"2019-01-01T00:00:00","Uptime":"0T00:05:11","POWER":"ON","Wifi":{"AP":1,"RSSI":72}}'],
    ['tasmota ENERGY-only SENSOR', 'tele/pow/SENSOR', '{"Time":"2019-01-01T00:00:00","ENERGY":{"Total":0.12,"Power":35,"Voltage":231,"Current":0.16}}'],
    ['tasmota LWT', 'tele/sonoff/LWT', 'Online'],
    // Tasmota on an ESP32 reports the chip's temperature in SENSOR: not a room reading
    ['tasmota ESP32 chip only', 'tele/esp32dev/SENSOR', '{"Time":"2024-01-01T00:00:00","ESP32":{"Temperature":48.3},"TempUnit":"C"}'],
    ['z2m bridge state', 'zigbee2mqtt/bridge/state', '{"state":"online"}'],
    ['z2m availability', 'zigbee2mqtt/kitchen/availability', '{"state":"online"}'],
    ['z2m set', 'zigbee2mqtt/lamp/set', '{"state":"ON"}'],
    // https://pastebin.com/A16U3Uv5: a z2m water leak sensor, no temperature
    ['z2m leak sensor', 'zigbee2mqtt/czujnikzalania1', '{"battery":"100.00","voltage":3045,"linkquality":99,"water_leak":false}'],
    ['HA discovery', 'homeassistant/sensor/livingroom-node/livingroom_temperature/config', '{"name":"Temperature","state_topic":"livingroom-node/sensor/livingroom_temperature/state"}'],
    ['esphome status', 'livingroom-node/status', 'online'],
    ['esphome other sensor', 'livingroom-node/sensor/uptime/state', '3600'],
    ['esphome switch', 'livingroom-node/switch/relay/state', 'ON'],
    ['tasmota stat RESULT', 'stat/sonoff/RESULT', '{"POWER":"ON"}'],
    ['tasmota STATUS10 reply', 'stat/sonoff-th/STATUS10', '{"StatusSNS":{"Time":"2019-01-01T00:00:00","AM2301":{"Temperature":24.6,"Humidity":58.2},"TempUnit":"C"}}'],
    ['shelly gen1 announce', 'shellies/announce', '{"id":"shellyht-6A9C3B","model":"SHHT-1"}'],
    ['shelly gen2 NotifyEvent', 'shellyplusht-b8d61a8b17cc/events/rpc', '{"src":"x","method":"NotifyEvent","params":{"events":[]}}'],
    ['omg LWT', 'home/OMG_ESP32_BLE/LWT', 'online'],
    ['omg BLE beacon', 'home/OMG_ESP32_BLE/BTtoMQTT/C7A2B1D0E9F8', '{"id":"C7:A2:B1:D0:E9:F8","rssi":-80,"manufacturerdata":"4c000215"}'],
  ];
  it.each(cases)('%s', (_n, topic, payload) => {
    expect(decode(topic, payload).kind).toBe('ignored');
  });
});

describe('units and derived values', () => {
  it('°C → °F and the Magnus (Alduchov–Eskridge) dew point', () => {
    expect(celsiusToF(0)).toBe(32);
    expect(celsiusToF(-40)).toBe(-40);
    expect(celsiusToF(100)).toBe(212);
    // Reference values of the formula: 20 °C at 50 % → 9.26 °C; at 100 % the dew point is the temperature.
    expect(dewPointC(20, 50)).toBeCloseTo(9.26, 1);
    expect(dewPointC(25, 100)).toBeCloseTo(25, 5);
    expect(dewPointC(20, 0)).toBeUndefined();
  });

  it('a Tasmota ESP32 with one sensor: the sensor is the device, the chip temperature is left out', () => {
    const r = reading(decode('tele/esp32dev/SENSOR', '{"ESP32":{"Temperature":48.3},"SHT3X":{"Temperature":21,"Humidity":45,"DewPoint":8.7},"TempUnit":"C"}'));
    expect(r).toMatchObject({ sensorName: 'esp32dev', temperatureF: 69.8 });
  });

  it('keeps a dew point the firmware sent rather than computing one', () => {
    const r = reading(decode('tele/x/SENSOR', '{"BME280":{"Temperature":20,"Humidity":50,"DewPoint":12},"TempUnit":"C"}'));
    expect(r.dewPointF).toBe(53.6);
  });

  it('rejects values outside physical ranges with the reason', () => {
    const bad: Array<[string, string, RegExp]> = [
      ['zigbee2mqtt/a', '{"temperature":160,"humidity":40}', /temperature 160 °C is outside/],
      ['zigbee2mqtt/a', '{"temperature":-80,"humidity":40}', /temperature -80 °C is outside/],
      ['zigbee2mqtt/a', '{"temperature":20,"humidity":101}', /humidity 101 %/],
      ['zigbee2mqtt/a', '{"temperature":20,"battery":120}', /battery 120 %/],
      ['tele/a/SENSOR', '{"AM2301":{"Temperature":350,"Humidity":10},"TempUnit":"F"}', /AM2301: temperature 350 °F/],
      ['shellies/ht/sensor/humidity', '-3', /humidity -3 %/],
      ['tele/a/SENSOR', '{"AM2301":{"Temperature":20},"TempUnit":"K"}', /unknown TempUnit/],
      ['livingroom/sensor/livingroom_temperature/state', 'nan', /expected a plain number/],
    ];
    for (const [topic, payload, reason] of bad) {
      const r = decode(topic, payload);
      expect(r.kind, `${topic} ${payload}`).toBe('rejection');
      expect(r.kind === 'rejection' ? r.reason : '').toMatch(reason);
    }
  });

  it('accepts the edges of the ranges (-100 °F, 300 °F, 0 and 100 %)', () => {
    expect(reading(decode('zigbee2mqtt/a', '{"temperature":-73.33,"humidity":0,"battery":0}')).temperatureF).toBeCloseTo(-99.994, 3);
    expect(reading(decode('tele/a/SENSOR', '{"X":{"Temperature":300,"Humidity":100},"TempUnit":"F"}')).relHumidityPercent).toBe(100);
  });
});

describe('sensor names from topics', () => {
  it('removes control characters and caps the length', () => {
    expect(cleanSensorName('kit\u0000ch\u001fen\u007f\u0085')).toBe('kitchen');
    const long = reading(decode(`zigbee2mqtt/${'x'.repeat(500)}`, '{"temperature":20}'));
    expect(long.sensorName).toHaveLength(128);
    const ctl = reading(decode('tele/bad\u0007name/SENSOR', '{"AM2301":{"Temperature":20,"Humidity":40},"TempUnit":"C"}'));
    expect(ctl.sensorName).toBe('badname');
  });

  it('a name of only control characters is a rejection, not an empty sensor', () => {
    expect(decode('zigbee2mqtt/\u0001\u0002', '{"temperature":20}').kind).toBe('rejection');
  });
});

describe('routing', () => {
  it('ECC stays as it was on the default topic, and auto still takes ECC payloads', () => {
    const ecc = new MessageDecoder();
    const p = 'field1=47.10&field2=73.45&field3=39.17&field4=3.41&field5=93.53&field6=-67&field7=ECCTH01';
    expect(reading(decode('ECCTempHum', p, ecc))).toMatchObject({ temperatureF: 73.45, sensorName: 'ECCTH01' });
    expect(reading(decode('sensors/ecc', p))).toMatchObject({ temperatureF: 73.45, sensorName: 'ECCTH01' });
  });

  it('each topic takes the format of the first --topic filter it matches', () => {
    const d = new MessageDecoder([
      { subscription: 'ECCTempHum', format: 'ecc' },
      { subscription: '$share/g/plant/+/SENSOR', format: 'tasmota' },
      { subscription: 'plant/#', format: 'z2m' },
    ]);
    expect(reading(decode('plant/boiler/SENSOR', '{"DS18B20":{"Temperature":50},"TempUnit":"C"}', d)).sensorName).toBe('plant/boiler');
    expect(reading(decode('plant/room', '{"temperature":20}', d)).sensorName).toBe('room');
    expect(decode('ECCTempHum', '{"temperature":20}', d).kind).toBe('rejection');
  });

  it('auto recognises JSON on an unknown topic by its shape', () => {
    expect(reading(decode('house/attic', '{"temperature":31.5,"humidity":20}')).sensorName).toBe('attic');
    expect(decode('house/attic', 'hello').kind).toBe('rejection');
  });

  it('the generic JSON format reads values where the mapping says', () => {
    const mapping = parseMapping(JSON.stringify({
      sensors: [{
        topic: 'office/+/climate', name: { topicLevel: 2 },
        temperature: { path: 'env.temp', unit: 'F' }, humidity: { path: 'env.rh' },
        batteryVoltage: { path: 'power.0', unit: 'mV' }, rssi: { path: 'wifi.rssi' },
      }],
    }));
    const d = new MessageDecoder([{ subscription: 'office/+/climate', format: 'json' }], mapping);
    const r = reading(decode('office/desk-3/climate', '{"env":{"temp":70.5,"rh":"45"},"power":[3012],"wifi":{"rssi":-58}}', d));
    expect(r).toMatchObject({ sensorName: 'desk-3', temperatureF: 70.5, relHumidityPercent: 45, battVoltage: 3.012, apRSSI: -58, battPercent: null });
    expect(r.dewPointF).toBeCloseTo(48.4, 0);
    expect(decode('office/desk-3/climate', '{"env":{"temp":"warm"}}', d)).toMatchObject({ kind: 'rejection', reason: 'temperature at env.temp is not a number' });
  });
});
