// Outage recovery, as the app sees it: the outage log (always on), the requesting role
// (--recovery: asks after an outage and ingests the answers) and the answering role
// (--serve-recovery). The app hands it the writer's database, a way to commit the live queue and
// to keep a rejected message, and the MQTT side's publish; it gives the MQTT side its extra
// subscriptions, Last Will and connection events, and takes the messages of its own topics.
import type BetterSqlite3 from 'better-sqlite3';
import type { Logger } from '../logging/types.js';
import type { InboundMessage, WillMessage } from '../mqtt/listener.js';
import type { Timers } from '../timers.js';
import { RecoveryIngester } from './ingest.js';
import type { RecoveryConfig } from './options.js';
import { OutageLog } from './outage-log.js';
import { RecoveryRequester } from './requester.js';
import { RecoveryResponder } from './responder.js';
import { RecoveryStore } from './recovery-store.js';
import { ensureRecoverySchema } from './schema.js';

export interface RecoveryDeps {
  config: RecoveryConfig;
  dbFile: string;
  database: () => BetterSqlite3.Database;
  /** Commits the live readings queued in the writer; false = the database does not take writes now. */
  flushLive: () => boolean;
  /** Keeps a malformed message in rejected_messages (through the writer); `committed` acknowledges it. */
  rejectMessage: (message: InboundMessage, reason: string, committed: () => void) => boolean;
  /** QoS 1 publish through the listener's MQTT client; resolves on PUBACK. */
  publish: (topic: string, payload: string) => Promise<void>;
  timers: Timers;
  log: Logger;
}

/** What the MQTT side needs from recovery (spread into its options). */
export interface RecoveryListenerHooks {
  extraSubscriptions: string[];
  will: () => WillMessage | undefined;
  onConnect: () => void;
  onConnectionLost: (reason: string, lastHeardMs: number) => void;
}

export class Recovery {
  readonly outages: OutageLog;
  readonly requester: RecoveryRequester;
  readonly ingester: RecoveryIngester | undefined;
  readonly responder: RecoveryResponder | undefined;

  constructor(private readonly deps: RecoveryDeps) {
    const c = deps.config;
    this.requester = new RecoveryRequester({
      config: c,
      publish: deps.publish,
      timers: deps.timers,
      log: deps.log,
      onUnrecovered: (sinceMs) => this.outages.unrecovered(sinceMs),
    });
    this.outages = new OutageLog({
      database: deps.database,
      timers: deps.timers,
      heartbeatMs: c.heartbeatMs,
      log: deps.log,
      onRestored: (outage) => this.requester.restored(outage),
    });
    if (c.request) {
      this.ingester = new RecoveryIngester({
        nodeId: c.nodeId,
        toleranceMs: c.toleranceMs,
        store: new RecoveryStore(deps.database),
        flushLive: deps.flushLive,
        rejectMessage: deps.rejectMessage,
        timers: deps.timers,
        log: deps.log,
        onAnswer: (requestTime) => this.requester.answered(requestTime),
      });
    }
    if (c.serve) {
      this.responder = new RecoveryResponder({
        dbFile: deps.dbFile,
        nodeId: c.nodeId,
        dataTopic: c.dataTopic,
        toleranceMs: c.toleranceMs,
        maxWindowMs: c.maxWindowMs,
        database: deps.database,
        publish: deps.publish,
        rejectMessage: deps.rejectMessage,
        timers: deps.timers,
        log: deps.log,
      });
    }
  }

  start(): void {
    ensureRecoverySchema(this.deps.database());
    this.outages.start();
    this.responder?.start();
    const c = this.deps.config;
    const roles = [c.request ? `requesting on ${c.requestTopic} (answers on ${c.dataTopic})` : '', c.serve ? `answering requests on ${c.requestTopic}` : '']
      .filter((r) => r !== '')
      .join('; ');
    if (roles) this.deps.log.info(`outage recovery as node ${c.nodeId}: ${roles}`);
  }

  /** Stops answering and ingesting, and records the stop in the outage log. Idempotent. */
  async stop(): Promise<void> {
    this.requester.stop();
    this.ingester?.stop();
    this.responder?.stop();
    this.outages.stop();
  }

  listenerHooks(): RecoveryListenerHooks {
    const c = this.deps.config;
    const extraSubscriptions: string[] = [];
    if (c.request) extraSubscriptions.push(c.dataTopic);
    if (c.serve) extraSubscriptions.push(c.requestTopic);
    return {
      extraSubscriptions,
      will: () => this.requester.will(),
      onConnect: () => {
        this.outages.connected();
        this.requester.connected();
      },
      onConnectionLost: (reason, lastHeardMs) => this.outages.disconnected(reason, lastHeardMs),
    };
  }

  /**
   * Takes a message on a recovery topic (true/false: as MessageSink.accept); undefined for any other
   * topic, which the caller decodes as a reading. A recovery topic whose role is off is ignored.
   */
  accept(m: InboundMessage, committed: () => void): boolean | undefined {
    const c = this.deps.config;
    if (m.topic === c.dataTopic) {
      if (this.ingester) return this.ingester.accept(m, committed);
    } else if (m.topic === c.requestTopic) {
      if (this.responder) return this.responder.accept(m, committed);
    } else if (m.topic !== c.announceTopic) {
      return undefined;
    }
    committed();
    return true;
  }
}
