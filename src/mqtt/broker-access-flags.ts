// The embedded broker's access flags: their commander options, and their resolution into
// `config.brokerAccess` (users file, ACL file, limits), with the one rule that matters most —
// a broker reachable beyond this computer without credentials is refused (exit 2) unless the
// user says --embedded-broker-allow-anonymous, as mosquitto 2 does.
import { InvalidArgumentError, type Command } from 'commander';
import { ConfigError } from '../config.js';
import { parseDecimal } from '../numbers.js';
import { readAcl, type Acl } from './broker-acl.js';
import { readBrokerUsers, type BrokerUser } from './broker-users.js';
import { BROKER_LIMIT_DEFAULTS, isLoopback } from './broker-defaults.js';

export interface BrokerAccessFlags {
  usersFile?: string;
  aclFile?: string;
  allowAnonymous?: boolean;
  maxClients?: number;
  maxPacketBytes?: number;
}

export interface BrokerAccessConfig {
  usersFile?: string;
  /** Device users; secrets are never printed (see describeBrokerAccess). */
  users: BrokerUser[];
  aclFile?: string;
  acl?: Acl;
  allowAnonymous: boolean;
  maxClients: number;
  maxPacketBytes: number;
}

const whole = (flag: string) => (value: string): number => {
  const n = parseDecimal(value);
  if (n === undefined || !Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} must be a whole number greater than 0, got ${JSON.stringify(value)}`);
  return n;
};

export function addBrokerAccessOptions(cmd: Command): Command {
  const d = BROKER_LIMIT_DEFAULTS;
  return cmd
    .option('--embedded-broker-users <file>', 'embedded broker: "user:password" (or "user:$scrypt$…" from hash-password) lines of the devices allowed in')
    .option('--embedded-broker-acl <file>', 'embedded broker: which users may subscribe (read) to what, and narrow what they may publish (write)')
    .option('--embedded-broker-allow-anonymous', 'embedded broker: let clients in without a user name even beyond loopback (anyone on the network may publish readings)')
    .option('--embedded-broker-max-clients <n>', `embedded broker: concurrent client connections (default: ${d.maxClients})`, whole('--embedded-broker-max-clients'))
    .option('--embedded-broker-max-packet-size <bytes>', `embedded broker: largest MQTT packet a client may send (default: ${d.maxPacketBytes})`, whole('--embedded-broker-max-packet-size'));
}

export function brokerAccessFlags(o: Record<string, unknown>): BrokerAccessFlags {
  const flags: BrokerAccessFlags = {};
  if (typeof o['embeddedBrokerUsers'] === 'string') flags.usersFile = o['embeddedBrokerUsers'];
  if (typeof o['embeddedBrokerAcl'] === 'string') flags.aclFile = o['embeddedBrokerAcl'];
  if (o['embeddedBrokerAllowAnonymous'] === true) flags.allowAnonymous = true;
  if (typeof o['embeddedBrokerMaxClients'] === 'number') flags.maxClients = o['embeddedBrokerMaxClients'];
  if (typeof o['embeddedBrokerMaxPacketSize'] === 'number') flags.maxPacketBytes = o['embeddedBrokerMaxPacketSize'];
  return flags;
}

export function resolveBrokerAccess(
  flags: BrokerAccessFlags,
  ctx: { embeddedBroker: boolean; host: string; listenerUser: string | undefined; warnings?: string[] },
): BrokerAccessConfig {
  const out: BrokerAccessConfig = {
    users: flags.usersFile !== undefined ? readBrokerUsers(flags.usersFile, ctx.warnings) : [],
    allowAnonymous: flags.allowAnonymous ?? false,
    maxClients: flags.maxClients ?? BROKER_LIMIT_DEFAULTS.maxClients,
    maxPacketBytes: flags.maxPacketBytes ?? BROKER_LIMIT_DEFAULTS.maxPacketBytes,
  };
  if (flags.usersFile !== undefined) out.usersFile = flags.usersFile;
  if (flags.aclFile !== undefined) {
    out.aclFile = flags.aclFile;
    out.acl = readAcl(flags.aclFile);
  }
  if (out.maxPacketBytes < 128) throw new ConfigError('--embedded-broker-max-packet-size must be at least 128 bytes (a CONNECT with a user name and password needs about that)');
  const credentials = ctx.listenerUser !== undefined || out.users.length > 0;
  if (ctx.embeddedBroker && !isLoopback(ctx.host) && !credentials && !out.allowAnonymous) {
    throw new ConfigError(
      `--embedded-broker-host ${ctx.host} opens the broker beyond this computer, and it has no credentials: anyone on the network could read every reading or store fake ones. Give --embedded-broker-users <file> (see README, "Letting real sensors in"), or --embedded-broker-allow-anonymous to accept that`,
    );
  }
  return out;
}

/** SIGHUP: the users and ACL files read again; a ConfigError leaves `current` as it was. */
export function rereadBrokerAccessFiles(current: BrokerAccessConfig, warnings: string[]): { users: BrokerUser[]; acl: Acl | undefined } {
  const users = current.usersFile !== undefined ? readBrokerUsers(current.usersFile, warnings) : [];
  const acl = current.aclFile !== undefined ? readAcl(current.aclFile) : undefined;
  current.users = users;
  if (acl) current.acl = acl;
  return { users, acl };
}

/** For check-config: file names, user names and limits, never a password or hash. */
export function describeBrokerAccess(c: BrokerAccessConfig): Record<string, unknown> {
  return {
    usersFile: c.usersFile ?? null,
    users: c.users.map((u) => u.name),
    aclFile: c.aclFile ?? null,
    aclUsers: c.acl ? [...c.acl.users.keys()] : [],
    allowAnonymous: c.allowAnonymous,
    maxClients: c.maxClients,
    maxPacketBytes: c.maxPacketBytes,
  };
}
