// End to end per firmware topic shape: a real broker over TCP, the listener with --topic routes
// and a --mapping file, a real SQLite file. What a user checks: the rows in ECCTempHum (°F, NULL
// for what the firmware lacks), messages of one device merged into one row, ignored messages
// neither stored nor rejected, nothing waiting for a merge lost at stop. (That an acknowledgement
// waits for the commit of the merged row is tested in reading-merger.test.ts: the publisher's
// PUBACK comes from the broker, not from the listener.)
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ListenerApp } from '../src/app.js';
import { brokerKinds, startBroker, type TestBroker } from './helpers/brokers.js';
import { count, publisher, query, startedApp, tempDir, waitFor } from './helpers/util.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const TOPICS = ['ECCTempHum', 'tele/+/+', 'zigbee2mqtt/#', 'shellies/#', '+/events/rpc', '+/sensor/+/state', 'home/+/BTtoMQTT/+', 'plant/#=z2m'];

async function setup(kind: 'aedes' | 'mosquitto'): Promise<{ app: ListenerApp; broker: TestBroker; dir: string; publish: (topic: string, payload: string) => Promise<void> }> {
  const dir = tempDir();
  const broker = await startBroker(kind, { persistence: false });
  cleanups.push(() => broker.stop());
  const mappingFile = join(dir, 'mapping.json');
  writeFileSync(mappingFile, JSON.stringify({
    sensors: [{ topic: 'office/+/climate', name: { topicLevel: 2 }, temperature: { path: 'env.temp', unit: 'C' }, humidity: { path: 'env.rh' } }],
  }));
  const app = await startedApp(dir, broker.port, { topics: TOPICS, mappingFile }, cleanups);
  const pub = await publisher(broker.port);
  cleanups.push(() => pub.endAsync());
  return { app, broker, dir, publish: async (topic, payload) => void (await pub.publishAsync(topic, payload, { qos: 1 })) };
}

type Row = Record<string, unknown>;
const rowsOf = (db: string, name: string) => query<Row>(db, 'SELECT * FROM ECCTempHum WHERE sensorName = ?', name);

describe.each(brokerKinds())('readings from every firmware through %s', (kind) => {
  it('stores one row per sensor reading, in °F, with NULL for what the firmware lacks', async () => {
    const { app, publish } = await setup(kind);
    const db = app.config.dbFile;
    await publish('tele/sonoff-th/SENSOR', '{"Time":"2019-01-01T00:00:00","AM2301":{"Temperature":24.6,"Humidity":58.2},"TempUnit":"C"}');
    await publish('tele/boiler/SENSOR', '{"DS18B20-1":{"Id":"00000566CC39","Temperature":13.3},"DS18B20-2":{"Id":"0000056A6A4F","Temperature":13.6},"TempUnit":"C"}');
    await publish('zigbee2mqtt/0x00158d00036c1821', '{"temperature":22.75,"linkquality":97,"humidity":55.43,"pressure":1000.6,"battery":86,"voltage":2985}');
    await publish('shellyplusht-b8d61a8b17cc/events/rpc', JSON.stringify({ src: 'shellyplusht-b8d61a8b17cc', method: 'NotifyFullStatus', params: { 'temperature:0': { id: 0, tC: 19.8, tF: 67.6 }, 'humidity:0': { id: 0, rh: 42.2 }, 'devicepower:0': { id: 0, battery: { V: 4.1, percent: 70 } } } }));
    await publish('home/TheengsGateway/BTtoMQTT/A4C138A2E224', '{"id":"A4:C1:38:A2:E2:24","rssi":-91,"name":"FLB Lavatory","model":"TH Sensor","tempc":28.53,"tempf":83.354,"hum":50.62,"batt":76,"volt":2.811}');
    await publish('office/desk-3/climate', '{"env":{"temp":21,"rh":44}}');
    await publish('plant/boiler-room', '{"temperature":30,"humidity":20}');
    await publish('ECCTempHum', 'field1=47.10&field2=73.45&field3=39.17&field4=3.41&field5=93.53&field6=-67&field7=ECCTH01');
    await waitFor(() => count(db, 'ECCTempHum') >= 9, 10_000, '9 rows');
    expect(count(db, 'ECCTempHum')).toBe(9);
    expect(rowsOf(db, 'sonoff-th')[0]).toMatchObject({ temperatureF: 76.28, relHumidityPercent: 58.2, battVoltage: null, battPercent: null, apRSSI: null });
    expect(rowsOf(db, 'boiler/DS18B20-2')[0]).toMatchObject({ temperatureF: 56.48, relHumidityPercent: null, dewPointF: null });
    expect(rowsOf(db, '0x00158d00036c1821')[0]).toMatchObject({ temperatureF: 72.95, battVoltage: 2.985, battPercent: 86, apRSSI: null });
    expect(rowsOf(db, 'shellyplusht-b8d61a8b17cc')[0]).toMatchObject({ temperatureF: 67.64, relHumidityPercent: 42.2, battVoltage: 4.1, battPercent: 70 });
    expect(rowsOf(db, 'FLB Lavatory')[0]).toMatchObject({ temperatureF: 83.354, apRSSI: -91, battVoltage: 2.811 });
    expect(rowsOf(db, 'desk-3')[0]).toMatchObject({ temperatureF: 69.8, relHumidityPercent: 44 });
    expect(rowsOf(db, 'boiler-room')[0]).toMatchObject({ temperatureF: 86 });
    expect(rowsOf(db, 'ECCTH01')[0]).toMatchObject({ temperatureF: 73.45, apRSSI: -67 });
    expect(query<Row>(db, 'SELECT MACaddress FROM ECCTempHumSensor WHERE sensorName = ?', 'FLB Lavatory')).toEqual([{ MACaddress: 'A4:C1:38:A2:E2:24' }]);
    expect(app.activity.readings).toBe(9);
  });

  it('Shelly gen 1 and ESPHome values of one device become ONE row', async () => {
    const { app, publish } = await setup(kind);
    const db = app.config.dbFile;
    await Promise.all([
      publish('shellies/shellyht-6A9C3B/sensor/temperature', '22.38'),
      publish('shellies/shellyht-6A9C3B/sensor/humidity', '51'),
      publish('shellies/shellyht-6A9C3B/sensor/battery', '87'),
      publish('kitchen-node/sensor/kitchen_temperature/state', '20.5'),
      publish('kitchen-node/sensor/kitchen_humidity/state', '61.2'),
      publish('kitchen-node/sensor/wifi_signal/state', '-70'),
    ]);
    await waitFor(() => count(db, 'ECCTempHum') >= 2, 10_000, 'the merged rows');
    await waitFor(() => app.readingWriter!.pending === 0, 10_000, 'every part committed');
    expect(count(db, 'ECCTempHum')).toBe(2);
    expect(rowsOf(db, 'shellyht-6A9C3B')[0]).toMatchObject({ temperatureF: 72.284, relHumidityPercent: 51, battPercent: 87, battVoltage: null });
    expect(rowsOf(db, 'kitchen-node')[0]).toMatchObject({ temperatureF: 68.9, relHumidityPercent: 61.2, apRSSI: -70, battPercent: null });
    expect(app.activity.readings).toBe(2);
  });

  it('values still waiting for their window are stored at stop()', async () => {
    const { app, broker } = await setup(kind);
    const db = app.config.dbFile;
    const pub = await publisher(broker.port);
    cleanups.push(() => pub.endAsync());
    pub.publish('cellar/sensor/cellar_temperature/state', '12.5', { qos: 1 });
    pub.publish('cellar/sensor/cellar_humidity/state', '80', { qos: 1 });
    await waitFor(() => app.activity.messages >= 2, 10_000, 'both values received');
    await app.stop();
    expect(rowsOf(db, 'cellar')).toHaveLength(1);
    expect(rowsOf(db, 'cellar')[0]).toMatchObject({ temperatureF: 54.5, relHumidityPercent: 80 });
  });

  it('recognised messages without a reading are ignored: counted, logged once, neither stored nor rejected', async () => {
    const { app, publish, dir } = await setup(kind);
    const db = app.config.dbFile;
    await publish('tele/sonoff/STATE', '{"Time":"2019-01-01T00:00:00","POWER":"ON"}');
    await publish('tele/pow/SENSOR', '{"ENERGY":{"Total":0.12,"Power":35}}');
    await publish('tele/sonoff/LWT', 'Online');
    await publish('zigbee2mqtt/bridge/state', '{"state":"online"}');
    await publish('zigbee2mqtt/kitchen/availability', '{"state":"online"}');
    await publish('home/TheengsGateway/BTtoMQTT/C7A2B1D0E9F8', '{"id":"C7:A2:B1:D0:E9:F8","rssi":-80}');
    await publish('zigbee2mqtt/freezer', '{"temperature":-120}'); // out of range: a rejection
    await waitFor(() => count(db, 'rejected_messages') === 1 && app.readingWriter!.totals.ignored === 6, 10_000, 'all 7 handled');
    expect(count(db, 'ECCTempHum')).toBe(0);
    expect(query<Row>(db, 'SELECT topic, reason FROM rejected_messages')).toEqual([
      { topic: 'zigbee2mqtt/freezer', reason: 'temperature -120 °C is outside the physical range -100…300 °F' },
    ]);
    expect(app.activity.ignored).toBe(6);
    expect(app.readingWriter!.totals.ignored).toBe(6);
    await app.stop();
    const log = (await import('node:fs')).readFileSync(join(dir, 'test.log'), 'utf8');
    expect(log.match(/ignored message on /g)).toHaveLength(6);
    expect(log).toMatch(/ignored message on zigbee2mqtt\/bridge\/state: Zigbee2MQTT bridge message/);
  });
});
