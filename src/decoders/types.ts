// The decoder contract: a decoder is a pure function of (topic, payload).
// It returns a Reading, a Rejection with a human-readable reason, or null when the
// payload is not in its format (so the next decoder in the chain can try).

export interface Reading {
  dewPointF: number;
  temperatureF: number;
  relHumidityPercent: number;
  battVoltage: number;
  battPercent: number;
  apRSSI: number;
  sensorName: string;
  /** Firmware >= v03.10 only. */
  location?: string;
  macAddress?: string;
  softwareVersion?: string;
}

export type DecodeResult =
  | { kind: 'reading'; reading: Reading; decoder: string }
  | { kind: 'rejection'; reason: string; decoder: string };

export interface Decoder {
  readonly name: string;
  /** Returns null when the payload is not this decoder's format. */
  decode(topic: string, text: string): DecodeResult | null;
}
