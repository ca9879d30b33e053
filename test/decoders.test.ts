import { describe, expect, it } from 'vitest';
import { decodePayload, MAX_PAYLOAD_BYTES } from '../src/decoders/index.js';
import { splitFields } from '../src/decoders/fields.js';

const enc = (s: string) => Buffer.from(s, 'utf8');
const SEVEN = 'field1=47.10&field2=73.45&field3=39.17&field4=3.41&field5=93.53&field6=-67&field7=ECCTH01';
const TEN = `${SEVEN}&field8=Office&field9=98:F4:AB:DA:6E:E2&field10=v03.10`;

describe('original fieldN= decoder', () => {
  it('decodes the 7-field payload of the spec', () => {
    const r = decodePayload('ECCTempHum', enc(SEVEN));
    expect(r).toEqual({
      kind: 'reading',
      decoder: 'fields',
      reading: {
        dewPointF: 47.1,
        temperatureF: 73.45,
        relHumidityPercent: 39.17,
        battVoltage: 3.41,
        battPercent: 93.53,
        apRSSI: -67,
        sensorName: 'ECCTH01',
      },
    });
  });

  it('decodes the 10-field payload with location, MAC and firmware', () => {
    const r = decodePayload('ECCTempHum', enc(TEN));
    expect(r.kind).toBe('reading');
    if (r.kind !== 'reading') return;
    expect(r.reading).toMatchObject({ location: 'Office', macAddress: '98:F4:AB:DA:6E:E2', softwareVersion: 'v03.10', sensorName: 'ECCTH01' });
  });

  it('uses keys when present, wherever they stand', () => {
    const shuffled = 'field7=ECCTH09&field2=70.5&field1=40&field3=50&field6=-70&field5=80&field4=3.3';
    const r = decodePayload('t', enc(shuffled));
    expect(r.kind === 'reading' && r.reading).toMatchObject({ temperatureF: 70.5, dewPointF: 40, sensorName: 'ECCTH09', apRSSI: -70 });
  });

  it('falls back to positions for unkeyed values', () => {
    const r = decodePayload('t', enc('a=40&b=70&c=50&d=3.3&e=80&f=-70&g=POS01'));
    expect(r.kind === 'reading' && r.reading).toMatchObject({ temperatureF: 70, sensorName: 'POS01' });
  });

  it('ignores extra keys (e.g. a sequence number) instead of taking them as location/MAC', () => {
    const r = decodePayload('t', enc(`${SEVEN}&seq=12&t=1700000000`));
    expect(r.kind).toBe('reading');
    if (r.kind === 'reading') expect(r.reading.location).toBeUndefined();
    if (r.kind === 'reading') expect(r.reading.macAddress).toBeUndefined();
  });

  const rejects: Array<[string, Buffer, RegExp]> = [
    ['empty payload', Buffer.alloc(0), /empty/],
    ['not UTF-8', Buffer.from([0x66, 0x69, 0xff, 0xfe, 0x3d]), /UTF-8/],
    ['missing sensor name', enc(SEVEN.replace('&field7=ECCTH01', '')), /field7.*missing/],
    ['empty sensor name', enc(SEVEN.replace('field7=ECCTH01', 'field7=')), /field7.*missing/],
    ['number that does not parse', enc(SEVEN.replace('73.45', '73,45')), /field2.*not a number/],
    ['hex is not a number', enc(SEVEN.replace('73.45', '0x10')), /field2.*not a number/],
    ['NaN', enc(SEVEN.replace('73.45', 'NaN')), /field2.*not a number/],
    ['Infinity', enc(SEVEN.replace('73.45', 'Infinity')), /field2.*not a number/],
    ['temperature too high', enc(SEVEN.replace('73.45', '250')), /field2.*out of range/],
    ['temperature too low', enc(SEVEN.replace('73.45', '-81')), /field2.*out of range/],
    ['humidity over 100', enc(SEVEN.replace('39.17', '100.5')), /field3.*out of range/],
    ['humidity negative', enc(SEVEN.replace('39.17', '-1')), /field3.*out of range/],
    ['missing number', enc('field2=70&field7=X'), /field1.*missing/],
    ['JSON', enc('{"temp": 70}'), /unknown payload format/],
    ['10 000 fields', enc(Array.from({ length: 10_000 }, () => 'f=1').join('&')), /too many fields/],
    ['oversized', Buffer.alloc(MAX_PAYLOAD_BYTES + 1, 0x61), /too large/],
    ['control characters in name', enc(SEVEN.replace('ECCTH01', 'EC\u0001C')), /control characters/],
  ];
  it.each(rejects)('rejects %s with a reason', (_name, payload, reason) => {
    const r = decodePayload('ECCTempHum', payload);
    expect(r.kind).toBe('rejection');
    if (r.kind === 'rejection') expect(r.reason).toMatch(reason);
  });

  it('keeps a hostile sensor name as data (it is bound as a parameter, never SQL)', () => {
    const r = decodePayload('t', enc(SEVEN.replace('ECCTH01', "'; DROP TABLE ECCTempHum; --")));
    expect(r.kind === 'reading' && r.reading.sensorName).toBe("'; DROP TABLE ECCTempHum; --");
  });
});

describe('the one-pass field splitter', () => {
  // The rule of the README, written the obvious way: split on '&', a trimmed `fieldN` key (any case,
  // 1-2 digits) makes the payload keyed; otherwise values count by position; the first value wins.
  function reference(text: string): Map<number, string> | 'too many' {
    const pairs = text.split('&');
    if (pairs.length > 64) return 'too many';
    const parsed = pairs.map((pair) => {
      const eq = pair.indexOf('=');
      const key = eq >= 0 ? /^field(\d{1,2})$/i.exec(pair.slice(0, eq).trim()) : null;
      return { key: key ? Number(key[1]) : undefined, value: (eq >= 0 ? pair.slice(eq + 1) : pair).trim() };
    });
    const keyed = parsed.some((p) => p.key !== undefined);
    const fields = new Map<number, string>();
    parsed.forEach((p, i) => {
      const index = keyed ? p.key : i + 1;
      if (index !== undefined && !fields.has(index)) fields.set(index, p.value);
    });
    return fields;
  }

  it('splits exactly like the obvious implementation on 5 000 random payloads', () => {
    const tokens = ['field1', 'FIELD2', 'Field3', 'field4', 'field5', 'field6', 'field7', 'field8', 'field07', 'field123', 'fieldX', 'seq',
      '=', '=', '&', '&', ' ', '\t', '12.5', '-3', '47.1', '1e2', 'ECCTH01', 'None', 'Office', ''];
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let compared = 0;
    for (let i = 0; i < 5000; i++) {
      const parts: string[] = [];
      const n = 1 + rand(30);
      for (let j = 0; j < n; j++) parts.push(tokens[rand(tokens.length)]!);
      const text = `${parts.join('')}=`; // always one '=' so the fields decoder claims it
      const ours = splitFields(text);
      const ref = reference(text);
      if (ref === 'too many') {
        expect(ours).toMatch(/too many fields/);
        continue;
      }
      expect(typeof ours).not.toBe('string');
      const oursMap = new Map<number, string>();
      (ours as Array<string | undefined>).forEach((v, k) => v !== undefined && oursMap.set(k, v));
      expect(oursMap).toEqual(ref);
      if (ref.size > 0) compared++;
    }
    expect(compared).toBeGreaterThan(4000);
  });

  it('accepts 64 fields and rejects 65', () => {
    const pairs = (n: number): string => Array.from({ length: n }, (_, i) => `k${i}=1`).join('&');
    expect(typeof splitFields(pairs(64))).not.toBe('string');
    expect(splitFields(pairs(65))).toBe('too many fields (65, at most 64)');
  });
});
