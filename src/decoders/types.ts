// The decoder contract: a decoder is a pure function of (topic, payload text).
// It returns one Reading (the common case, kept as its own shape so the ECC hot path allocates
// nothing more), several Readings (one Tasmota message with several sensor blocks), a part of a
// reading (one value of a device that publishes each value as its own message: merged by
// ReadingMerger), an "ignored" result (recognised, but carries no reading: availability, bridge
// and discovery messages), a Rejection with a human-readable reason, or null when the payload is
// not in its format (so the next decoder can try).

export interface Reading {
  /** Values a firmware does not report are null (stored as NULL). */
  dewPointF: number | null;
  temperatureF: number | null;
  relHumidityPercent: number | null;
  battVoltage: number | null;
  battPercent: number | null;
  /** Only a real RSSI in dBm (never Zigbee's linkquality). */
  apRSSI: number | null;
  sensorName: string;
  /** Firmware >= v03.10 only. */
  location?: string;
  macAddress?: string;
  softwareVersion?: string;
}

/** Values of one device from one message, already in the stored units (°F, %, V, dBm). */
export interface ReadingPart {
  temperatureF?: number;
  relHumidityPercent?: number;
  dewPointF?: number;
  battVoltage?: number;
  battPercent?: number;
  apRSSI?: number;
}

export type DecodeResult =
  | { kind: 'reading'; reading: Reading; decoder: string }
  | { kind: 'readings'; readings: Reading[]; decoder: string }
  | { kind: 'part'; sensorName: string; part: ReadingPart; decoder: string }
  | { kind: 'ignored'; reason: string; decoder: string }
  /** A part that ReadingMerger folded into a reading another message carries: nothing to store. */
  | { kind: 'merged'; sensorName: string; decoder: string }
  | { kind: 'rejection'; reason: string; decoder: string };

export interface Decoder {
  readonly name: string;
  /** Returns null when the payload is not this decoder's format. */
  decode(topic: string, text: string): DecodeResult | null;
}

/**
 * One firmware's row in the routing table. `matches` looks at the topic's shape (and, for
 * payload-only formats, the text) to pick a firmware when the route's format is `auto`.
 */
export interface FirmwareDecoder extends Decoder {
  /** The --topic format name (ecc, tasmota, z2m, ...). */
  readonly format: string;
  matches(levels: readonly string[], text: string): boolean;
}
