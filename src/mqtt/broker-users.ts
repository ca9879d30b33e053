// The embedded broker's users file (--embedded-broker-users): one `user:secret` line per device
// or group of devices, `#` comments and blank lines ignored. The secret is the password itself or
// a scrypt hash made by `mqtt-iot-listener hash-password`, so the file need not hold plain
// passwords. Hash format (self-describing, PHC-style): `$scrypt$ln=14,r=8,p=1$<salt>$<hash>`,
// salt and hash in unpadded base64; the cost parameters travel with the hash so they can grow.
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { ConfigError, credentialLines, permissionWarning } from '../config.js';

const scrypt = (password: string | Buffer, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> =>
  new Promise((resolve, reject) => scryptCb(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))));

/** N = 2^14, r = 8: 16 MiB and some tens of ms of one core a check (a login, not a message). */
const DEFAULT_COST = { ln: 14, r: 8, p: 1 };
const KEY_BYTES = 32;
const HASH_RE = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]{16,})\$([A-Za-z0-9+/]{16,})$/;

export interface BrokerUser {
  name: string;
  /** The plain password, or a `$scrypt$…` hash. Never logged. */
  secret: string;
}

export async function hashPassword(password: string, cost = DEFAULT_COST): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, KEY_BYTES, scryptOptions(cost));
  return `$scrypt$ln=${cost.ln},r=${cost.r},p=${cost.p}$${b64(salt)}$${b64(key)}`;
}

export function isScryptHash(secret: string): boolean {
  return secret.startsWith('$scrypt$');
}

/** Compares in constant time (per length) against a plain password or a scrypt hash. */
export async function verifyPassword(password: Buffer, secret: string): Promise<boolean> {
  const m = HASH_RE.exec(secret);
  if (!m) return !isScryptHash(secret) && sameBytes(password, Buffer.from(secret));
  const salt = Buffer.from(m[4]!, 'base64');
  const expected = Buffer.from(m[5]!, 'base64');
  const key = await scrypt(password, salt, expected.length, scryptOptions({ ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) }));
  return timingSafeEqual(key, expected);
}

export function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Parses the users file; every mistake is a ConfigError naming the file and line (never the secret). */
export function readBrokerUsers(path: string, warnings: string[] = []): BrokerUser[] {
  const users: BrokerUser[] = [];
  const seen = new Set<string>();
  credentialLines(path).forEach((line, i) => {
    const where = `users file ${path}, entry ${i + 1}`;
    const colon = line.indexOf(':');
    if (colon < 0) throw new ConfigError(`${where}: expected "user:password" or "user:$scrypt$…" (no colon found)`);
    const name = line.slice(0, colon).trim();
    const secret = line.slice(colon + 1).trim();
    if (name === '') throw new ConfigError(`${where}: the user name before the colon is empty`);
    if (secret === '') throw new ConfigError(`${where}: user ${name} has an empty password`);
    if (isScryptHash(secret) && !saneHash(secret)) throw new ConfigError(`${where}: user ${name} has a malformed $scrypt$ hash; make a new one with hash-password`);
    if (seen.has(name)) throw new ConfigError(`${where}: user ${name} appears twice`);
    seen.add(name);
    users.push({ name, secret });
  });
  if (users.length === 0) throw new ConfigError(`users file ${path} names no user: expected "user:password" lines`);
  const w = permissionWarning(path);
  if (w) warnings.push(w);
  return users;
}

/** Well-formed, with costs a login can afford (N up to 2^20, r up to 32, p up to 16). */
function saneHash(secret: string): boolean {
  const m = HASH_RE.exec(secret);
  return m !== null && Number(m[1]) >= 1 && Number(m[1]) <= 20 && Number(m[2]) >= 1 && Number(m[2]) <= 32 && Number(m[3]) >= 1 && Number(m[3]) <= 16;
}

function scryptOptions(c: { ln: number; r: number; p: number }): ScryptOptions {
  const N = 2 ** c.ln;
  return { N, r: c.r, p: c.p, maxmem: 256 * N * c.r + 1024 * 1024 };
}

function b64(buf: Buffer): string {
  return buf.toString('base64').replace(/=+$/, '');
}
