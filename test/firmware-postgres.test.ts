// Firmware readings into PostgreSQL (-d postgres://…), against a real private server and a real
// broker: several readings from one message, parts merged into one row, NULL for what a firmware
// lacks, ignored messages neither stored nor rejected — as with SQLite.
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { pgQuery, postgresAndAedes } from './helpers/postgres.js';
import { startedApp, tempDir, waitFor } from './helpers/util.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];

const rig = postgresAndAedes(cleanups);

describe('firmware readings in PostgreSQL', () => {
  it('stores Tasmota multi-sensor, Zigbee2MQTT and merged Shelly gen 1 readings; ignores bridge messages', async () => {
    const url = rig.server.url();
    const app = await startedApp(tempDir('pg-fw-'), rig.broker.port, { dbFile: url, clientId: 'pg-fw', topics: ['tele/+/+', 'zigbee2mqtt/#', 'shellies/#'] }, cleanups);
    const pub = await mqtt.connectAsync({ host: '127.0.0.1', port: rig.broker.port, clientId: 'pg-fw-pub' });
    cleanups.push(() => pub.endAsync());
    await pub.publishAsync('tele/boiler/SENSOR', '{"DS18B20-1":{"Temperature":13.3},"DS18B20-2":{"Temperature":13.6},"TempUnit":"C"}', { qos: 1 });
    await pub.publishAsync('zigbee2mqtt/0x00158d00036c1821', '{"temperature":22.75,"humidity":55.43,"battery":86,"voltage":2985,"linkquality":97}', { qos: 1 });
    await pub.publishAsync('zigbee2mqtt/bridge/state', '{"state":"online"}', { qos: 1 });
    await pub.publishAsync('shellies/ht/sensor/temperature', '21', { qos: 1 });
    await pub.publishAsync('shellies/ht/sensor/humidity', '45', { qos: 1 });
    await pub.publishAsync('shellies/ht/sensor/battery', '90', { qos: 1 });
    await waitFor(() => app.readingWriter!.totals.stored === 4 && app.readingWriter!.totals.ignored === 1, 20_000, '4 rows and 1 ignored');
    const rows = await pgQuery<Record<string, unknown>>(
      url,
      'SELECT "sensorName", "temperatureF", "relHumidityPercent", "dewPointF", "battVoltage", "battPercent", "apRSSI" FROM "ECCTempHum" ORDER BY "sensorName"',
    );
    expect(rows).toEqual([
      { sensorName: '0x00158d00036c1821', temperatureF: 72.95, relHumidityPercent: 55.43, dewPointF: 56.048, battVoltage: 2.985, battPercent: 86, apRSSI: null },
      { sensorName: 'boiler/DS18B20-1', temperatureF: 55.94, relHumidityPercent: null, dewPointF: null, battVoltage: null, battPercent: null, apRSSI: null },
      { sensorName: 'boiler/DS18B20-2', temperatureF: 56.48, relHumidityPercent: null, dewPointF: null, battVoltage: null, battPercent: null, apRSSI: null },
      { sensorName: 'ht', temperatureF: 69.8, relHumidityPercent: 45, dewPointF: 47.498, battVoltage: null, battPercent: 90, apRSSI: null },
    ]);
    expect(await pgQuery(url, 'SELECT 1 FROM "rejected_messages"')).toEqual([]);
  });
});
