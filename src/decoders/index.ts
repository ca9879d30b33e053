// The decoder chain: turns raw MQTT payload bytes into a Reading or a Rejection.
// Byte-level checks (size, UTF-8) happen once here; format decoders see text only.
import { fieldsDecoder } from './fields.js';
import type { DecodeResult, Decoder } from './types.js';

export type { DecodeResult, Decoder, Reading } from './types.js';

export const MAX_PAYLOAD_BYTES = 64 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });

export const defaultDecoders: readonly Decoder[] = [fieldsDecoder];

export function decodePayload(
  topic: string,
  payload: Uint8Array,
  decoders: readonly Decoder[] = defaultDecoders,
): DecodeResult {
  if (payload.length === 0) return { kind: 'rejection', reason: 'empty payload', decoder: 'chain' };
  if (payload.length > MAX_PAYLOAD_BYTES) {
    return { kind: 'rejection', reason: `payload too large (${payload.length} bytes, limit ${MAX_PAYLOAD_BYTES})`, decoder: 'chain' };
  }
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    return { kind: 'rejection', reason: 'payload is not valid UTF-8', decoder: 'chain' };
  }
  for (const decoder of decoders) {
    const result = decoder.decode(topic, text.trim());
    if (result) return result;
  }
  return { kind: 'rejection', reason: 'unknown payload format (no decoder accepted it)', decoder: 'chain' };
}
