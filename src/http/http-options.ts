// The status service's flags (--http, --http-auth, --http-no-auth, --stale) and the availability
// topics (--availability-topic), added to the command line and resolved here, once, into
// config.http and config.availabilityTopics. A server reachable beyond loopback without a
// password is refused at start (exit 2), as is an auth file that is missing or malformed.
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { isIP } from 'node:net';
import { ConfigError, credentialLines, permissionWarning } from '../config.js';
import { parseDuration } from '../numbers.js';

export const DEFAULT_STALE_MINUTES = 30;

export interface HttpAuth {
  user: string;
  password: string;
}

export interface HttpConfig {
  host: string;
  port: number;
  /** HTTP Basic credentials; undefined = no auth (loopback, or --http-no-auth). */
  auth?: HttpAuth;
  /** A sensor without a reading for longer than this is "stale". */
  staleMs: number;
}

export interface HttpFlags {
  http?: string;
  httpAuth?: string;
  httpNoAuth?: boolean;
  /** ms */
  stale?: number;
  availabilityTopic?: string[];
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function addHttpOptions(cmd: Command): Command {
  return cmd
    .option('--http <[host:]port>', 'serve the status API, health and metrics over HTTP on this port (a bare port binds 127.0.0.1)')
    .option('--http-auth <file>', 'file with one line "user:password": HTTP Basic auth for --http (required beyond 127.0.0.1)')
    .option('--http-no-auth', 'allow --http on a non-loopback address without a password (behind your own proxy)')
    .option('--availability-topic <filter>', 'availability/LWT topic filter (Tasmota tele/+/LWT, zigbee2mqtt/+/availability, ESPHome +/status, Shelly shellies/+/online); repeatable', collect)
    // Same spelling and parser as `status --stale` (commander hands a program option given after
    // the subcommand to the program), so both read one value in ms.
    .option('--stale <duration>', `for --http: a sensor without a reading for this long is "stale", e.g. 30m, 2h (a bare number is minutes) (default: ${DEFAULT_STALE_MINUTES}m)`, parseStale);
}

export function parseStale(v: string): number {
  const ms = parseDuration(v, 'm');
  if (ms === undefined || ms <= 0) throw new InvalidArgumentError(`--stale must be a duration like 30m, 2h or 90s, got ${JSON.stringify(v)}`);
  return ms;
}

/** `8080`, `0.0.0.0:8080`, `[::1]:8080` → host and port; bare port → 127.0.0.1. */
export function parseListenAddress(value: string): { host: string; port: number } {
  const text = value.trim();
  const m = /^(?:\[([^\]]+)\]:|([^:]*):)?(\d+)$/.exec(text);
  const host = m ? (m[1] ?? m[2] ?? '127.0.0.1') : '';
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || host === '' || !(port >= 0 && port <= 65535)) {
    throw new ConfigError(`--http ${JSON.stringify(value)} is not [host:]port (e.g. 8080 or 0.0.0.0:8080)`);
  }
  return { host, port };
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

export function readHttpAuth(path: string, warnings: string[] = []): HttpAuth {
  let line: string | undefined;
  try {
    line = credentialLines(path)[0];
  } catch (err) {
    throw new ConfigError(`--http-auth ${(err as Error).message.replace(/^cannot read credentials file /, 'cannot read ')}`);
  }
  const colon = line?.indexOf(':') ?? -1;
  if (line === undefined || colon <= 0 || colon === line.length - 1) {
    throw new ConfigError(`--http-auth file ${path}: expected one line "user:password"`);
  }
  const w = permissionWarning(path);
  if (w) warnings.push(w);
  return { user: line.slice(0, colon), password: line.slice(colon + 1) };
}

export function resolveHttpConfig(flags: HttpFlags, warnings: string[] = []): { http?: HttpConfig; availabilityTopics: string[] } {
  const availabilityTopics = flags.availabilityTopic ?? [];
  for (const t of availabilityTopics) {
    if (t === '' || t.includes('\0')) throw new ConfigError(`--availability-topic ${JSON.stringify(t)} is not a valid MQTT topic filter`);
  }
  if (flags.http === undefined) {
    if (flags.httpAuth !== undefined || flags.httpNoAuth) throw new ConfigError('--http-auth/--http-no-auth need --http [host:]port');
    return { availabilityTopics };
  }
  const { host, port } = parseListenAddress(flags.http);
  if (flags.httpAuth !== undefined && flags.httpNoAuth) throw new ConfigError('--http-auth and --http-no-auth contradict each other: give one');
  const http: HttpConfig = { host, port, staleMs: flags.stale ?? DEFAULT_STALE_MINUTES * 60_000 };
  if (flags.httpAuth !== undefined) http.auth = readHttpAuth(flags.httpAuth, warnings);
  else if (!isLoopback(host) && !flags.httpNoAuth) {
    throw new ConfigError(`--http ${flags.http} is reachable beyond this machine: give --http-auth <file> (one line user:password) or --http-no-auth`);
  }
  return { http, availabilityTopics };
}
