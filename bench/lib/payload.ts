// Bench payloads: the ECC firmware v03.10 format (fields 1-10), plus `&t=<publish ms>` which the
// decoder ignores. The message's sequence number is encoded in two stored columns
// (temperatureF, relHumidityPercent) so the bench can tell, from the database alone, which
// message a row is: that is how latency is matched and duplicates/losses are counted.

export const BENCH_TOPIC = 'ECCTempHum';

const LOCATIONS = ['Office', 'Sanctuary', 'Kitchen', 'Basement', 'Nursery', 'Hall', 'Library', 'Attic'];

export function sensorName(index: number): string {
  return `BENCH${String(index).padStart(5, '0')}`;
}

export function sensorMac(index: number): string {
  return `98:F4:AB:${[index >> 16, (index >> 8) & 255, index & 255].map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(':')}`;
}

/** temperatureF = 50.00 + (seq % 10000)/100, relHumidityPercent = floor(seq / 10000)/100: seq < 1e8. */
export function encodeSeq(seq: number): { temperatureF: string; humidity: string } {
  return {
    temperatureF: (50 + (seq % 10_000) / 100).toFixed(2),
    humidity: (Math.floor(seq / 10_000) / 100).toFixed(2),
  };
}

export function decodeSeq(temperatureF: number, humidity: number): number {
  return Math.round((temperatureF - 50) * 100) + Math.round(humidity * 100) * 10_000;
}

/** The same decoding in SQL, for COUNT(DISTINCT ...) over the stored rows. */
export const SEQ_SQL = 'CAST(ROUND((temperatureF - 50) * 100) AS INTEGER) + CAST(ROUND(relHumidityPercent * 100) AS INTEGER) * 10000';

export function sensorLocation(index: number): string {
  return LOCATIONS[index % LOCATIONS.length]!;
}

export function benchPayload(seq: number, sensors: number, publishedAtMs: number): string {
  const s = seq % sensors;
  const { temperatureF, humidity } = encodeSeq(seq);
  return (
    `field1=45.50&field2=${temperatureF}&field3=${humidity}&field4=3.91&field5=67.80&field6=-61` +
    `&field7=${sensorName(s)}&field8=${sensorLocation(s)}&field9=${sensorMac(s)}&field10=v03.10` +
    `&t=${publishedAtMs.toFixed(3)}`
  );
}

/** Wall clock in ms with sub-ms precision, comparable across processes on one machine. */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

/** What the publishers send: the ECC payload, or a Zigbee2MQTT device state (the decode bench). */
export type BenchFormat = 'ecc' | 'z2m';

export const Z2M_BENCH_FILTER = 'zigbee2mqtt/#';

/**
 * A Zigbee2MQTT state of an Aqara-like sensor carrying the same sequence number: the temperature
 * in °C with enough digits that the listener's °F (rounded to 0.001) is exactly encodeSeq's.
 */
export function z2mBenchPayload(seq: number, sensors: number, publishedAtMs: number): string {
  const { temperatureF, humidity } = encodeSeq(seq);
  const c = (((Number(temperatureF) - 32) * 5) / 9).toFixed(6);
  return `{"battery":67.8,"humidity":${humidity},"linkquality":120,"temperature":${c},"voltage":3910,"t":${publishedAtMs.toFixed(3)}}`;
}

export function benchMessage(format: BenchFormat, seq: number, sensors: number, publishedAtMs: number): { topic: string; payload: string } {
  if (format === 'z2m') return { topic: `zigbee2mqtt/${sensorName(seq % sensors)}`, payload: z2mBenchPayload(seq, sensors, publishedAtMs) };
  return { topic: BENCH_TOPIC, payload: benchPayload(seq, sensors, publishedAtMs) };
}
