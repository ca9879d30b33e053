// The outage-recovery flags (both roles) and their validation: commander options added to the
// listener command, resolved once into `config.recovery`. User mistakes are ConfigErrors (exit 2).
import { InvalidArgumentError, type Command } from 'commander';
import { ConfigError } from '../config.js';
import { parseDuration } from '../numbers.js';

export interface RecoveryConfig {
  /** --recovery: ask for the readings missed during an outage, and ingest the answers. */
  request: boolean;
  /** --serve-recovery: answer other listeners' requests from our own database. */
  serve: boolean;
  /** --node-id: our id in requests and answers (default: the MQTT client id). */
  nodeId: string;
  minOutageMs: number;
  requestTopic: string;
  dataTopic: string;
  /** --announce-topic: connection_status messages (reconnect; disconnect as the Last Will). */
  announceTopic?: string;
  toleranceMs: number;
  maxWindowMs: number;
  /** How often the outage log records that the listener is alive (not a flag). */
  heartbeatMs: number;
}

export const RECOVERY_DEFAULTS = {
  minOutageMs: 60_000,
  requestTopic: 'recovery/request',
  dataTopic: 'recovery/data',
  toleranceMs: 5_000,
  maxWindowMs: 7 * 86_400_000,
  heartbeatMs: 30_000,
} as const;

function duration(flag: string, allowZero: boolean) {
  return (value: string): number => {
    const ms = parseDuration(value, 's');
    if (ms === undefined || ms < 0 || (!allowZero && ms === 0)) {
      throw new InvalidArgumentError(`${flag} must be a duration like 90s, 5m, 2h or 7d (a bare number is seconds), got ${JSON.stringify(value)}`);
    }
    return ms;
  };
}

export function addRecoveryOptions(cmd: Command): Command {
  const d = RECOVERY_DEFAULTS;
  return cmd
    .option('--recovery', 'after an outage, ask other listeners/gateways for the readings missed and store their answers')
    .option('--serve-recovery', "answer other listeners' recovery requests with readings from this database")
    .option('--node-id <id>', 'this listener\'s id in recovery messages (default: the MQTT client id)')
    .option('--recovery-min-outage <duration>', `shortest outage worth a recovery request (default: ${d.minOutageMs / 1000}s)`, duration('--recovery-min-outage', true))
    .option('--recovery-request-topic <topic>', `topic of recovery requests (default: ${d.requestTopic})`)
    .option('--recovery-data-topic <topic>', `topic of recovery answers (default: ${d.dataTopic})`)
    .option('--announce-topic <topic>', 'publish connection_status messages here: "reconnect" on connect, "disconnect" as the MQTT Last Will')
    .option('--recovery-tolerance <duration>', `a recovered reading within this time of a stored one with the same values is a duplicate (default: ${d.toleranceMs / 1000}s)`, duration('--recovery-tolerance', true))
    .option('--recovery-max-window <duration>', `longest outage window answered; longer requests are capped (default: 7d)`, duration('--recovery-max-window', false));
}

/** What commander hands over (camel-cased flag names). */
export interface RecoveryFlags {
  recovery?: boolean;
  serveRecovery?: boolean;
  nodeId?: string;
  recoveryMinOutage?: number;
  recoveryRequestTopic?: string;
  recoveryDataTopic?: string;
  announceTopic?: string;
  recoveryTolerance?: number;
  recoveryMaxWindow?: number;
}

function topic(flag: string, value: string): string {
  const t = value.trim();
  if (t === '' || t.includes('\0') || t.includes('+') || t.includes('#') || t.startsWith('$')) {
    throw new ConfigError(`${flag} ${JSON.stringify(value)} must be a plain MQTT topic name (no wildcards, not empty)`);
  }
  return t;
}

/** `postgres`: the readings go to PostgreSQL, which recovery does not support yet. */
export function resolveRecoveryConfig(flags: RecoveryFlags, clientId: string, postgres = false): RecoveryConfig {
  const d = RECOVERY_DEFAULTS;
  if (postgres && (flags.recovery || flags.serveRecovery)) {
    throw new ConfigError('--recovery and --serve-recovery need an SQLite database (-d <file>); they are not available with PostgreSQL yet');
  }
  const nodeId = (flags.nodeId ?? clientId).trim();
  if (nodeId === '') throw new ConfigError('--node-id is empty');
  const config: RecoveryConfig = {
    request: flags.recovery ?? false,
    serve: flags.serveRecovery ?? false,
    nodeId,
    minOutageMs: flags.recoveryMinOutage ?? d.minOutageMs,
    requestTopic: topic('--recovery-request-topic', flags.recoveryRequestTopic ?? d.requestTopic),
    dataTopic: topic('--recovery-data-topic', flags.recoveryDataTopic ?? d.dataTopic),
    toleranceMs: flags.recoveryTolerance ?? d.toleranceMs,
    maxWindowMs: flags.recoveryMaxWindow ?? d.maxWindowMs,
    heartbeatMs: d.heartbeatMs,
  };
  if (config.requestTopic === config.dataTopic) throw new ConfigError('--recovery-request-topic and --recovery-data-topic must be different topics');
  if (config.toleranceMs > 3_600_000) throw new ConfigError('--recovery-tolerance must be at most 1h (it decides which readings count as the same)');
  if (flags.announceTopic !== undefined) {
    config.announceTopic = topic('--announce-topic', flags.announceTopic);
    if (config.announceTopic === config.requestTopic || config.announceTopic === config.dataTopic) {
      throw new ConfigError('--announce-topic must differ from the recovery request and data topics');
    }
  }
  return config;
}
