// The original Python listener's write path, reimplemented as the baseline: QoS 0, clean session,
// and for every message open the database, insert the row (and the sensor row when its metadata
// changed), commit, close. Python's sqlite3 defaults are kept: rollback journal (DELETE) and
// synchronous=FULL. Values are taken by position, as the original did. The handler is synchronous
// like paho's on_message, so while it works the socket is not read and the broker queues or
// drops (QoS 0) what it cannot deliver. Its start-up creates the tables and the sensorName index when
// missing, as the original's did, so it also runs on a database our listener created.
import Database from 'better-sqlite3';
import { connectBench } from './connect.js';
import { ensureSchema } from '../../src/store/schema.js';
import { formatMicrosUTC, nowMicros } from '../../src/store/time.js';
import { BENCH_TOPIC } from '../lib/payload.js';

interface Job {
  port: number;
  dbFile: string;
  clientId: string;
}

function storeOne(dbFile: string, text: string): void {
  const values = text.split('&').map((pair) => pair.slice(pair.indexOf('=') + 1));
  const db = new Database(dbFile);
  try {
    const now = formatMicrosUTC(nowMicros());
    db.prepare('BEGIN').run();
    db.prepare(
      `INSERT INTO ECCTempHum (recordWrittenUTC, dewPointF, temperatureF, relHumidityPercent, battVoltage,
         battPercent, apRSSI, sensorName) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(now, Number(values[0]), Number(values[1]), Number(values[2]), Number(values[3]), Number(values[4]), Number(values[5]), values[6]);
    if (values.length >= 10) {
      const last = db
        .prepare(
          `SELECT location, MACaddress, softwareVersion FROM ECCTempHumSensor WHERE sensorName = ?
             ORDER BY recordWrittenUTC DESC LIMIT 1`,
        )
        .get(values[6]) as { location: string; MACaddress: string; softwareVersion: string } | undefined;
      if (!last || last.location !== values[7] || last.MACaddress !== values[8] || last.softwareVersion !== values[9]) {
        db.prepare('INSERT INTO ECCTempHumSensor VALUES (?, ?, ?, ?, ?)').run(now, values[6], values[7], values[8], values[9]);
      }
    }
    db.prepare('COMMIT').run();
  } finally {
    db.close();
  }
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '{}') as Job;
  const init = new Database(job.dbFile);
  init.pragma('journal_mode = DELETE');
  init.pragma('synchronous = FULL');
  ensureSchema(init);
  // The original's own start-up also creates its index on sensorName (our new databases have none).
  init.exec('CREATE INDEX IF NOT EXISTS ECCTempHum_sensor_idx ON ECCTempHum (sensorName)');
  init.close();

  const client = await connectBench(job.port, job.clientId);
  client.on('message', (_topic, payload) => storeOne(job.dbFile, payload.toString('utf8')));
  await client.subscribeAsync(BENCH_TOPIC, { qos: 0 });
  process.send?.({ type: 'ready' });
  process.on('message', (m: { type?: string }) => {
    if (m.type === 'stop') {
      client.end(true, {}, () => process.disconnect());
    }
  });
}

main().catch((err: unknown) => {
  process.send?.({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  process.exitCode = 1;
  process.disconnect?.();
});
