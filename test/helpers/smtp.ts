// A real SMTP server (smtp-server) on 127.0.0.1 for the alert tests: TLS with a self-signed
// certificate made by openssl, STARTTLS, or plain. It checks the login and keeps every mail.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { freePort } from './brokers.js';
import { tempDir } from './util.js';

export type SmtpMode = 'tls' | 'starttls' | 'plain';

export interface ReceivedMail {
  envelopeFrom: string;
  envelopeTo: string[];
  headers: Map<string, string>;
  subject: string;
  text: string;
  raw: string;
  /** The user that logged in (onAuth accepts only the right user and password). */
  authUser: string | undefined;
  /** The name the client gave in EHLO/HELO. */
  ehlo: string;
  /** True when the session was encrypted (TLS or STARTTLS). */
  secure: boolean;
}

export interface TestSmtp {
  readonly mode: SmtpMode;
  readonly port: number;
  readonly mails: ReceivedMail[];
  /** Logins refused (wrong user or password). */
  readonly refusedLogins: number;
  stop(): Promise<void>;
  /** Starts it again on the same port (after stop). */
  start(): Promise<void>;
}

let cachedCert: { key: string; cert: string } | null | undefined;

/** A throw-away self-signed certificate for 127.0.0.1; null when openssl is missing. */
export function selfSignedCert(): { key: string; cert: string } | null {
  if (cachedCert !== undefined) return cachedCert;
  const dir = tempDir('smtp-cert-');
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  const r = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    { encoding: 'utf8', timeout: 30_000 },
  );
  cachedCert = r.status === 0 && existsSync(cert) ? { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') } : null;
  return cachedCert;
}

export async function startSmtp(options: { mode: SmtpMode; user: string; pass: string; port?: number }): Promise<TestSmtp> {
  const port = options.port ?? (await freePort());
  const mails: ReceivedMail[] = [];
  let refused = 0;
  // smtp-server falls back to its own built-in self-signed certificate when openssl is missing.
  const tlsMaterial = options.mode === 'plain' ? {} : (selfSignedCert() ?? {});
  const serverOptions: SMTPServerOptions = {
    secure: options.mode === 'tls',
    hideSTARTTLS: options.mode === 'plain',
    allowInsecureAuth: options.mode === 'plain',
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    ...tlsMaterial,
    onAuth(auth, _session, cb) {
      if (auth.username === options.user && auth.password === options.pass) {
        cb(null, { user: auth.username });
      } else {
        refused++;
        cb(new Error('Invalid username or password'));
      }
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const { headers, body } = parseMessage(raw);
        mails.push({
          envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          envelopeTo: session.envelope.rcptTo.map((r) => r.address),
          headers,
          subject: headers.get('subject') ?? '',
          text: decodeBody(body, headers.get('content-transfer-encoding') ?? '7bit'),
          raw,
          authUser: typeof session.user === 'string' ? session.user : undefined,
          ehlo: session.hostNameAppearsAs,
          secure: session.secure,
        });
        cb(null);
      });
    },
  };
  let server: SMTPServer | undefined;
  const listen = async (): Promise<void> => {
    const s = new SMTPServer(serverOptions);
    s.on('error', () => undefined); // client resets during the tests are not failures
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        s.off('error', reject);
        resolve();
      });
    });
    server = s;
  };
  await listen();
  return {
    mode: options.mode,
    port,
    mails,
    get refusedLogins() {
      return refused;
    },
    stop: async () => {
      const s = server;
      server = undefined;
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    start: listen,
  };
}

function parseMessage(raw: string): { headers: Map<string, string>; body: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = split >= 0 ? raw.slice(0, split) : raw;
  const body = split >= 0 ? raw.slice(split + 4) : '';
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), decodeWords(line.slice(colon + 1).trim()));
  }
  return { headers, body };
}

/** RFC 2047 encoded words (=?UTF-8?Q?...?= / =?UTF-8?B?...?=), adjacent ones joined. */
export function decodeWords(value: string): string {
  return value
    .replace(/(=\?[^?]+\?[QqBb]\?[^?]*\?=)\s+(?==\?[^?]+\?[QqBb]\?)/g, '$1')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_m, _charset: string, enc: string, text: string) => {
      const bytes = enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64') : qpBytes(text.replace(/_/g, ' '));
      return bytes.toString('utf8');
    });
}

function qpBytes(text: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '=' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      out.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      out.push(...Buffer.from(ch, 'utf8'));
    }
  }
  return Buffer.from(out);
}

function decodeBody(body: string, encoding: string): string {
  const e = encoding.toLowerCase();
  if (e === 'quoted-printable') return qpBytes(body.replace(/=\r\n/g, '')).toString('utf8');
  if (e === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return body;
}
