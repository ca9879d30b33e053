// Decoding a message: byte-level checks (size, UTF-8) once here, then the firmware decoder that
// the message's route names (`--topic <filter>=<format>`), or with `auto` the first firmware in
// the table whose topic shape matches, then one that recognises the payload. A new firmware is
// one new file and one row in FIRMWARES, never a new branch here.
import { esphomeDecoder } from './esphome.js';
import { fieldsDecoder } from './fields.js';
import { isObject, parseJson } from './json-text.js';
import { mappedJsonDecoder } from './mapped-json.js';
import type { SensorMapping } from './mapping-file.js';
import { ignored } from './measurements.js';
import { omgDecoder } from './omg.js';
import { shellyDecoder } from './shelly.js';
import { tasmotaDecoder } from './tasmota.js';
import { compileFilter, topicMatches } from './topic-filter.js';
import type { DecodeResult, FirmwareDecoder } from './types.js';
import { z2mDecoder } from './z2m.js';

export type { DecodeResult, Decoder, Reading, ReadingPart } from './types.js';

/** Above any sensor's message; JSON payloads up to this size are parsed (256 KiB). */
export const MAX_PAYLOAD_BYTES = 256 * 1024;

export const FORMATS = ['ecc', 'tasmota', 'z2m', 'shelly', 'esphome', 'omg', 'json', 'auto'] as const;
export type Format = (typeof FORMATS)[number];

export interface TopicRoute {
  /** The --topic filter as subscribed (may be a $share/ subscription). */
  subscription: string;
  format: Format;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

const eccDecoder: FirmwareDecoder = {
  name: fieldsDecoder.name,
  format: 'ecc',
  matches: (_levels, text) => text.charCodeAt(0) !== 123 && text.includes('='),
  decode: (topic, text) => fieldsDecoder.decode(topic, text),
};

/** Home Assistant discovery configs (published by ESPHome, Tasmota, OMG ...): never readings. */
const discoveryDecoder: FirmwareDecoder = {
  name: 'discovery',
  format: 'auto',
  matches: (levels) => levels[0] === 'homeassistant' && levels[levels.length - 1] === 'config',
  decode: () => ignored('discovery', 'Home Assistant discovery config'),
};

const AVAILABILITY_LEVELS = new Set(['status', 'availability', 'LWT', 'online', 'connected']);
const AVAILABILITY_PAYLOADS = new Set(['online', 'offline', 'Online', 'Offline', 'true', 'false', 'connected', 'disconnected']);

/** `<device>/status` = online/offline and friends, from any firmware. */
const availabilityDecoder: FirmwareDecoder = {
  name: 'availability',
  format: 'auto',
  matches: (levels, text) => AVAILABILITY_LEVELS.has(levels[levels.length - 1]!) && AVAILABILITY_PAYLOADS.has(text),
  decode: () => ignored('availability', 'availability (online/offline) message'),
};

/** Firmwares recognised by topic shape, in the order `auto` tries them. */
const FIRMWARES: readonly FirmwareDecoder[] = [discoveryDecoder, shellyDecoder, esphomeDecoder, z2mDecoder, tasmotaDecoder, omgDecoder, availabilityDecoder];

/**
 * For an unknown topic: a firmware whose JSON shape this is — Tasmota's `TempUnit`, then flat
 * `temperature`/`humidity` keys. (Theengs' `tempc` is left out: its name and MAC come with the
 * BTtoMQTT topic.)
 */
function byPayload(json: unknown): FirmwareDecoder | undefined {
  if (!isObject(json)) return undefined;
  if ('TempUnit' in json) return tasmotaDecoder;
  if ('temperature' in json || 'humidity' in json) return z2mDecoder;
  return undefined;
}

const MAX_CACHED_TOPICS = 10_000;

export class MessageDecoder {
  private readonly routes: ReadonlyArray<{ filter: readonly string[]; format: Format }>;
  private readonly byFormat = new Map<Format, FirmwareDecoder>();
  private readonly autoTable: readonly FirmwareDecoder[];
  private readonly formatCache = new Map<string, Format>();

  constructor(routes: readonly TopicRoute[] = [{ subscription: 'ECCTempHum', format: 'ecc' }], mapping: readonly SensorMapping[] = []) {
    this.routes = routes.map((r) => ({ filter: compileFilter(r.subscription), format: r.format }));
    for (const d of [eccDecoder, tasmotaDecoder, z2mDecoder, shellyDecoder, esphomeDecoder, omgDecoder]) this.byFormat.set(d.format as Format, d);
    const json = mapping.length > 0 ? mappedJsonDecoder(mapping) : undefined;
    if (json) this.byFormat.set('json', json);
    // The user's own mapping wins over a built-in guess.
    this.autoTable = json ? [json, ...FIRMWARES] : FIRMWARES;
  }

  decode(topic: string, payload: Uint8Array): DecodeResult {
    if (payload.length === 0) return { kind: 'rejection', reason: 'empty payload', decoder: 'chain' };
    if (payload.length > MAX_PAYLOAD_BYTES) {
      return { kind: 'rejection', reason: `payload too large (${payload.length} bytes, limit ${MAX_PAYLOAD_BYTES})`, decoder: 'chain' };
    }
    let text: string;
    try {
      text = utf8.decode(payload).trim();
    } catch {
      return { kind: 'rejection', reason: 'payload is not valid UTF-8', decoder: 'chain' };
    }
    if (text === '') return { kind: 'rejection', reason: 'empty payload', decoder: 'chain' };
    const format = this.formatOf(topic);
    if (format !== 'auto') {
      const decoder = this.byFormat.get(format);
      if (!decoder) return { kind: 'rejection', reason: `format ${format} needs --mapping`, decoder: 'chain' };
      return decoder.decode(topic, text) ?? unknownFormat();
    }
    return this.decodeAuto(topic, text);
  }

  /** The format of the first route whose filter matches (one route: no matching at all). */
  private formatOf(topic: string): Format {
    const routes = this.routes;
    if (routes.length === 1) return routes[0]!.format;
    const cached = this.formatCache.get(topic);
    if (cached !== undefined) return cached;
    let format: Format = 'auto';
    for (const r of routes) {
      if (topicMatches(r.filter, topic)) {
        format = r.format;
        break;
      }
    }
    if (this.formatCache.size >= MAX_CACHED_TOPICS) this.formatCache.clear();
    this.formatCache.set(topic, format);
    return format;
  }

  private decodeAuto(topic: string, text: string): DecodeResult {
    const levels = topic.split('/');
    for (const d of this.autoTable) {
      if (d.matches(levels, text)) return d.decode(topic, text) ?? unknownFormat();
    }
    if (text.charCodeAt(0) === 123) {
      const parsed = parseJson(text);
      if (!parsed.ok) return { kind: 'rejection', reason: parsed.reason, decoder: 'auto' };
      const d = byPayload(parsed.value);
      if (d) return d.decode(topic, text) ?? unknownFormat();
    }
    if (eccDecoder.matches(levels, text)) return eccDecoder.decode(topic, text) ?? unknownFormat();
    return unknownFormat();
  }
}

function unknownFormat(): DecodeResult {
  return { kind: 'rejection', reason: 'unknown payload format (no decoder accepted it)', decoder: 'chain' };
}

const eccOnly = new MessageDecoder();

/** The original listener's decoding: every topic is ECC (callers without routes, tests). */
export function decodePayload(topic: string, payload: Uint8Array): DecodeResult {
  return eccOnly.decode(topic, payload);
}
