// HTTP Basic auth for the status service (a browser shows its login box; curl -u, Prometheus
// basic_auth). The password is compared in constant time and never logged or echoed.
import { timingSafeEqual, createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { HttpAuth } from './http-options.js';

export const AUTH_CHALLENGE = 'Basic realm="mqtt-iot-listener", charset="UTF-8"';

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

export function authorized(req: IncomingMessage, auth: HttpAuth): boolean {
  const header = req.headers.authorization;
  if (!header || !/^Basic\s+/i.test(header)) return false;
  const decoded = Buffer.from(header.replace(/^Basic\s+/i, ''), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  // Digests have equal lengths, so timingSafeEqual never throws and lengths leak nothing.
  const userOk = timingSafeEqual(digest(decoded.slice(0, colon)), digest(auth.user));
  const passwordOk = timingSafeEqual(digest(decoded.slice(colon + 1)), digest(auth.password));
  return userOk && passwordOk;
}
