// `simulate`: fake sensors publishing realistic readings in the original payload format, for
// trying the listener out (`npm start` in one terminal, `simulate` in another) and for load.
import mqtt from 'mqtt';
import type { IClientOptions } from 'mqtt';
import type { Config } from './config.js';

export interface SimulateOptions {
  sensors: number;
  intervalMs: number;
  count?: number;
  prefix: string;
  out?: (line: string) => void;
}

export interface SimulatedSensor {
  name: string;
  location: string;
  mac: string;
}

const LOCATIONS = ['Office', 'Sanctuary', 'Kitchen', 'Basement', 'Nursery', 'Hall', 'Library', 'Attic'];

export function simulatedSensors(count: number, prefix: string): SimulatedSensor[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `${prefix}${String(i + 1).padStart(2, '0')}`,
    location: LOCATIONS[i % LOCATIONS.length]!,
    mac: `98:F4:AB:${[i >> 16, (i >> 8) & 255, i & 255].map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(':')}`,
  }));
}

/** A payload as the ECC firmware v03.10 sends it, with plausible values. */
export function simulatedPayload(sensor: SimulatedSensor, seq: number, random: () => number = Math.random): string {
  const temperatureF = 60 + 20 * random();
  const humidity = 25 + 50 * random();
  // Magnus approximation, in °C then back to °F.
  const tC = (temperatureF - 32) / 1.8;
  const g = Math.log(humidity / 100) + (17.62 * tC) / (243.12 + tC);
  const dewF = ((243.12 * g) / (17.62 - g)) * 1.8 + 32;
  const volts = 3.3 + 0.9 * random();
  const pct = Math.min(100, Math.max(0, ((volts - 3.3) / 0.9) * 100));
  const rssi = -40 - Math.floor(50 * random());
  return (
    `field1=${dewF.toFixed(2)}&field2=${temperatureF.toFixed(2)}&field3=${humidity.toFixed(2)}` +
    `&field4=${volts.toFixed(2)}&field5=${pct.toFixed(2)}&field6=${rssi}&field7=${sensor.name}` +
    `&field8=${sensor.location}&field9=${sensor.mac}&field10=v03.10&seq=${seq}`
  );
}

export async function simulate(config: Config, o: SimulateOptions): Promise<{ published: number; elapsedMs: number }> {
  const clientOptions: IClientOptions = {
    host: config.broker,
    port: config.port,
    protocol: config.tls ? 'mqtts' : 'mqtt',
    clientId: `mqtt-iot-listener-simulator-${process.pid}`,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
  };
  if (config.mqtt.username !== undefined) clientOptions.username = config.mqtt.username;
  if (config.mqtt.password !== undefined) clientOptions.password = config.mqtt.password;
  if (config.tls) clientOptions.rejectUnauthorized = !config.insecure;
  const client = await mqtt.connectAsync(clientOptions);
  const sensors = simulatedSensors(o.sensors, o.prefix);
  const topic = config.topics[0]!.replace(/[#+].*$/, '').replace(/\/$/, '') || 'ECCTempHum';
  const start = Date.now();
  let published = 0;
  let stopped = false;
  const stop = (): void => {
    stopped = true;
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    while (!stopped && (o.count === undefined || published < o.count)) {
      const round: Promise<unknown>[] = [];
      for (const s of sensors) {
        if (o.count !== undefined && published >= o.count) break;
        round.push(client.publishAsync(topic, simulatedPayload(s, published), { qos: config.qos }));
        published++;
      }
      await Promise.all(round);
      if (o.intervalMs > 0 && (o.count === undefined || published < o.count)) {
        await new Promise((r) => setTimeout(r, o.intervalMs));
      }
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await client.endAsync();
  }
  return { published, elapsedMs: Date.now() - start };
}
