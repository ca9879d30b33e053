// JSON payloads, parsed without surprises: a size cap and a nesting cap checked in one linear
// scan before JSON.parse (whose recursion a deeply nested payload could push into a stack
// overflow, and whose time grows with size), and typed accessors that never throw.

export const MAX_JSON_BYTES = 256 * 1024;
export const MAX_JSON_DEPTH = 32;

export type JsonObject = { readonly [key: string]: unknown };

export type JsonParse = { ok: true; value: unknown } | { ok: false; reason: string };

/** Nesting depth of `text` as JSON, counting brackets outside strings; stops past `limit`. */
function depthWithin(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > limit) return false;
    } else if (c === 125 || c === 93) depth--;
  }
  return true;
}

export function parseJson(text: string): JsonParse {
  // text.length counts UTF-16 units: at most the byte length, so this never rejects too much.
  if (text.length > MAX_JSON_BYTES) return { ok: false, reason: `JSON payload too large (${text.length} characters, limit ${MAX_JSON_BYTES})` };
  // Only nested payloads need the scan; flat sensor JSON (the common case) has one '{'.
  if (text.indexOf('{', 1) >= 0 || text.indexOf('[') >= 0) {
    if (!depthWithin(text, MAX_JSON_DEPTH)) return { ok: false, reason: `JSON nested deeper than ${MAX_JSON_DEPTH} levels` };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, reason: `not valid JSON: ${(err as Error).message.slice(0, 80)}` };
  }
}

/** parseJson for formats that need an object at the top. */
export function parseJsonObject(text: string): { ok: true; value: JsonObject } | { ok: false; reason: string } {
  const parsed = parseJson(text);
  if (!parsed.ok) return parsed;
  if (!isObject(parsed.value)) return { ok: false, reason: 'JSON payload is not an object' };
  return { ok: true, value: parsed.value };
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A finite number, or a numeric string ("21.5"); anything else (null, "nan", true) is undefined. */
export function numberOf(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.length <= 32) {
    const t = v.trim();
    if (t === '' || !/^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/.test(t)) return undefined;
    const n = Number(t);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

export function stringOf(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The value at a dotted path (`a.b.0.c`: keys, or array indexes), or undefined. */
export function valueAt(root: unknown, path: readonly string[]): unknown {
  let v: unknown = root;
  for (const key of path) {
    if (Array.isArray(v)) {
      if (!/^\d+$/.test(key)) return undefined;
      v = v[Number(key)];
    } else if (isObject(v)) {
      if (!Object.prototype.hasOwnProperty.call(v, key)) return undefined;
      v = v[key];
    } else return undefined;
  }
  return v;
}
