// Who may do what on the embedded broker. The listener's own user (-c) may do anything; device
// users (--embedded-broker-users, or anonymous with --embedded-broker-allow-anonymous) may publish
// only to the topics the listener reads, and subscribe only where the ACL lets them — never to
// the readings unless the ACL names them. With no credentials at all on loopback the broker stays
// open, as `npm start` always was (mosquitto 2's local-only default does the same).
// Refusals are counted (for the metrics endpoint) and logged once per client id.
import { isIP } from 'node:net';
import type { Client, PublishPacket } from 'aedes';
import type { Logger } from '../logging/types.js';
import type { Acl } from './broker-acl.js';
import { sameBytes, verifyPassword, type BrokerUser } from './broker-users.js';
import { filterCovers, filtersOverlap, topicMatches } from './topic-filters.js';

export interface BrokerAccessPolicy {
  /** The listener's own client: its -c user, or (without one) its client id from loopback. */
  listener: { username?: string | undefined; password?: string | undefined; clientId?: string };
  users: readonly BrokerUser[];
  acl?: Acl;
  allowAnonymous: boolean;
  /** Bound to loopback only: with no credentials at all, the broker stays open. */
  loopbackOnly: boolean;
  /** Topics device users may publish to: every filter the listener subscribes to. */
  publishFilters: readonly string[];
}

export interface BrokerAccessCounters {
  refusedLogins: number;
  refusedPublishes: number;
  refusedSubscriptions: number;
  /** Connections dropped at the client limit. */
  refusedConnections: number;
  /** Connections closed for a packet over the size limit. */
  oversizedPackets: number;
}

type Role = { kind: 'listener' } | { kind: 'device'; user: string | undefined };

/** Past this many remembered client ids the memory of "already logged" starts over. */
const MAX_REMEMBERED = 10_000;

export class BrokerAccess {
  readonly counters: BrokerAccessCounters = { refusedLogins: 0, refusedPublishes: 0, refusedSubscriptions: 0, refusedConnections: 0, oversizedPackets: 0 };
  private readonly roles = new WeakMap<Client, Role>();
  private readonly logged = new Set<string>();
  private users: Map<string, string>;

  constructor(
    private readonly policy: BrokerAccessPolicy,
    private readonly log: Logger,
  ) {
    this.users = new Map(policy.users.map((u) => [u.name, u.secret]));
  }

  /**
   * Loopback only and nothing configured (no credentials, ACL or --embedded-broker-allow-anonymous):
   * everyone may do everything, as before these rules existed.
   */
  get open(): boolean {
    const p = this.policy;
    return p.loopbackOnly && p.listener.username === undefined && this.users.size === 0 && !p.acl && !p.allowAnonymous;
  }

  /** The topics devices may publish to, once every part that subscribes is known. */
  setPublishFilters(filters: readonly string[]): void {
    this.policy.publishFilters = [...filters];
  }

  /** Users and ACL re-read from their files (SIGHUP): for logins and packets from now on. */
  setRules(users: readonly BrokerUser[], acl: Acl | undefined): void {
    this.users = new Map(users.map((u) => [u.name, u.secret]));
    if (acl) this.policy.acl = acl;
    else delete this.policy.acl;
  }

  /** New credentials of the listener (SIGHUP re-read of -c). */
  setListenerCredentials(username: string | undefined, password: string | undefined): void {
    this.policy.listener.username = username;
    this.policy.listener.password = password;
  }

  async authenticate(client: Client, username: string | undefined, password: Buffer | undefined): Promise<string | undefined> {
    if (this.open) return undefined;
    const p = this.policy;
    const pass = password ?? Buffer.alloc(0);
    if (username === undefined || username === '') {
      if (p.listener.username === undefined && p.listener.clientId !== undefined && client.id === p.listener.clientId && fromLoopback(client)) {
        this.roles.set(client, { kind: 'listener' });
        return undefined;
      }
      if (p.allowAnonymous) {
        this.roles.set(client, { kind: 'device', user: undefined });
        return undefined;
      }
      return this.refuseLogin(client, username, 'no user name (anonymous clients are not allowed)');
    }
    if (username === p.listener.username) {
      if (sameBytes(pass, Buffer.from(p.listener.password ?? ''))) {
        this.roles.set(client, { kind: 'listener' });
        return undefined;
      }
      return this.refuseLogin(client, username, 'wrong password');
    }
    const secret = this.users.get(username);
    if (secret === undefined) return this.refuseLogin(client, username, 'unknown user');
    if (!(await verifyPassword(pass, secret))) return this.refuseLogin(client, username, 'wrong password');
    this.roles.set(client, { kind: 'device', user: username });
    return undefined;
  }

  /** Undefined = allowed, else the reason it is not. */
  publishRefusal(client: Client | null, packet: PublishPacket): string | undefined {
    const role = this.role(client);
    if (!role || role.kind === 'listener') return undefined;
    const topic = packet.topic;
    if (!this.policy.publishFilters.some((f) => topicMatches(f, topic))) return `the listener does not read ${topic} (devices may publish only to ${this.policy.publishFilters.join(', ')})`;
    const write = this.rules(role.user, 'write');
    if (write.length > 0 && !write.some((f) => topicMatches(f, topic))) return `the ACL does not let ${who(role.user)} write to ${topic}`;
    return undefined;
  }

  subscribeRefusal(client: Client, filter: string): string | undefined {
    const role = this.role(client);
    if (!role || role.kind === 'listener') return undefined;
    const readings = this.policy.publishFilters.some((f) => filtersOverlap(f, filter));
    if (!this.policy.acl) return readings ? `${filter} reaches the readings; only the listener (and users the ACL names) may read them` : undefined;
    const own = role.user !== undefined ? (this.policy.acl.users.get(role.user)?.read ?? []) : [];
    if (own.some((r) => filterCovers(r, filter))) return undefined;
    if (!readings && this.policy.acl.everyone.read.some((r) => filterCovers(r, filter))) return undefined;
    return `the ACL does not let ${who(role.user)} read ${filter}`;
  }

  /** Counts a refusal and logs it the first time for this client id. */
  noteRefused(kind: 'publish' | 'subscribe', client: Client | null, what: string, reason: string): void {
    if (kind === 'publish') this.counters.refusedPublishes++;
    else this.counters.refusedSubscriptions++;
    const role = this.role(client);
    const user = role?.kind === 'device' ? role.user : undefined;
    this.once(`${kind}\0${client?.id ?? ''}`, `refused ${kind} ${what} from client ${client?.id ?? '?'} (${who(user)}${address(client)}): ${reason}; further refusals of this client are counted, not logged`);
  }

  noteDropped(kind: 'client-limit' | 'oversized', detail: string): void {
    if (kind === 'client-limit') this.counters.refusedConnections++;
    else this.counters.oversizedPackets++;
    const n = kind === 'client-limit' ? this.counters.refusedConnections : this.counters.oversizedPackets;
    if (n === 1 || n % 100 === 0) this.log.warn(`${detail}${n > 1 ? ` (${n} so far)` : ''}`);
  }

  private refuseLogin(client: Client, username: string | undefined, reason: string): string {
    this.counters.refusedLogins++;
    this.once(`login\0${username ?? ''}\0${remote(client) ?? ''}`, `refused login of client ${client.id} (${who(username)}${address(client)}): ${reason}; repeats from there are counted, not logged`);
    return reason;
  }

  private rules(user: string | undefined, kind: 'read' | 'write'): string[] {
    const acl = this.policy.acl;
    if (!acl) return [];
    return [...acl.everyone[kind], ...(user !== undefined ? (acl.users.get(user)?.[kind] ?? []) : [])];
  }

  private role(client: Client | null): Role | undefined {
    if (!client || this.open) return undefined;
    return this.roles.get(client) ?? { kind: 'device', user: undefined };
  }

  private once(key: string, line: string): void {
    if (this.logged.has(key)) return;
    if (this.logged.size >= MAX_REMEMBERED) this.logged.clear();
    this.logged.add(key);
    this.log.warn(line);
  }
}

function who(user: string | undefined): string {
  return user === undefined ? 'anonymous' : `user ${user}`;
}

function remote(client: Client | null): string | undefined {
  const conn = client?.conn as { remoteAddress?: string } | undefined;
  return conn?.remoteAddress;
}

function address(client: Client | null): string {
  const a = remote(client);
  return a ? ` from ${a}` : '';
}

function fromLoopback(client: Client): boolean {
  const a = remote(client);
  if (!a) return false;
  const v4 = a.startsWith('::ffff:') ? a.slice(7) : a;
  return (isIP(v4) === 4 && v4.startsWith('127.')) || a === '::1';
}
