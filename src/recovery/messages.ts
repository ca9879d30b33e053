// The recovery message formats (the seed's "push" design): recovery_data_request, recovery_data
// and connection_status, built and checked here so requester, responder and ingester agree.
// Times in messages are ISO 8601 UTC; stored rows keep the database's own text form.
import { parseMicrosUTC } from '../store/time.js';

/** A recovery message larger than this is rejected unread. */
export const MAX_RECOVERY_MESSAGE_BYTES = 8 * 1024 * 1024;
/** An answer message holds at most this many entries and bytes. */
export const MAX_ANSWER_ENTRIES = 5000;
export const MAX_ANSWER_BYTES = 256 * 1024;
/** The table name entries are filed under in recovery_data. */
export const READINGS_KEY = 'ECCTempHum';

export function isoUTC(ms: number): string {
  return new Date(ms).toISOString();
}

const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;

/**
 * Microseconds since the epoch from an ISO 8601 time with a zone (`…Z`, `…+01:00`) or the
 * database's UTC text (`YYYY-MM-DD HH:MM:SS.ffffff`, exact to the microsecond); else undefined.
 */
export function parseTimeMicros(value: unknown): number | undefined {
  if (typeof value !== 'string' || value.length > 40) return undefined;
  const db = parseMicrosUTC(value);
  if (Number.isFinite(db)) return db;
  if (!ISO_RE.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms * 1000 : undefined;
}

export function requestMessage(nodeId: string, nowMs: number, lostMs: number, restoredMs: number): string {
  return JSON.stringify({ id: nodeId, time: isoUTC(nowMs), lost_connection_time: isoUTC(lostMs), restored_connection_time: isoUTC(restoredMs) });
}

export function connectionStatusMessage(status: 'reconnect' | 'disconnect', nodeId: string, nowMs: number): string {
  return JSON.stringify({ connection_status: status, time: isoUTC(nowMs), id: nodeId });
}

export interface RecoveryRequest {
  id: string;
  time: string;
  lostMs: number;
  restoredMs: number;
  /** One request is answered once: the requester's id and the request's time name it. */
  key: string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseJson(payload: Uint8Array, what: string): Record<string, unknown> | string {
  if (payload.length > MAX_RECOVERY_MESSAGE_BYTES) return `${what} too large (${payload.length} bytes, limit ${MAX_RECOVERY_MESSAGE_BYTES})`;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.length).toString('utf8'));
  } catch (err) {
    return `${what} is not JSON: ${(err as Error).message.slice(0, 120)}`;
  }
  return isObject(value) ? value : `${what} is not a JSON object`;
}

function requiredId(o: Record<string, unknown>): string | undefined {
  const id = o['id'];
  return typeof id === 'string' && id.trim() !== '' && id.length <= 256 ? id : undefined;
}

/** A recovery_data_request, or the reason it is not one. */
export function parseRequest(payload: Uint8Array): RecoveryRequest | string {
  const o = parseJson(payload, 'recovery request');
  if (typeof o === 'string') return o;
  const id = requiredId(o);
  if (id === undefined) return 'recovery request has no "id" (a non-empty string)';
  const time = o['time'];
  if (typeof time !== 'string' || parseTimeMicros(time) === undefined) return 'recovery request "time" is not an ISO 8601 UTC time';
  const lost = parseTimeMicros(o['lost_connection_time']);
  const restored = parseTimeMicros(o['restored_connection_time']);
  if (lost === undefined || restored === undefined) return 'recovery request needs "lost_connection_time" and "restored_connection_time" as ISO 8601 UTC times';
  if (restored < lost) return 'recovery request "restored_connection_time" is before "lost_connection_time"';
  return { id, time, lostMs: Math.floor(lost / 1000), restoredMs: Math.ceil(restored / 1000), key: `${id}\n${time}` };
}

export interface RecoveryData {
  /** The node the data is for (the requester). */
  id: string;
  /** The node the data comes from. */
  entity: string | undefined;
  /** The `time` of the request this answers, if the answering node says. */
  requestTime: string | undefined;
  entries: unknown[];
}

/** A recovery_data envelope, or the reason it is not one (entries are checked one by one later). */
export function parseRecoveryData(payload: Uint8Array): RecoveryData | string {
  const o = parseJson(payload, 'recovery data');
  if (typeof o === 'string') return o;
  const id = requiredId(o);
  if (id === undefined) return 'recovery data has no "id" (a non-empty string)';
  const entity = o['entity'];
  if (entity !== undefined && (typeof entity !== 'string' || entity.length > 256)) return 'recovery data "entity" is not a string';
  const data = o['recovery_data'];
  if (!isObject(data)) return 'recovery data has no "recovery_data" object';
  const entries = data[READINGS_KEY];
  if (!Array.isArray(entries)) return `recovery data has no "recovery_data"."${READINGS_KEY}" array`;
  const requestTime = typeof o['request_time'] === 'string' ? o['request_time'] : undefined;
  return { id, entity, requestTime, entries };
}
