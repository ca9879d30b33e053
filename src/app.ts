// The composition root: the only module that knows every part. start() wires
// broker -> decoder -> writer -> SQLite; stop() takes them down in the order that loses nothing:
// stop taking messages, commit what is queued (acknowledging it), disconnect, close the database.
import type { LookupFunction } from 'node:net';
import { hostname } from 'node:os';
import { AlertMailer } from './alerts/alert-mailer.js';
import { MuteState } from './alerts/mute-state.js';
import { SensorAlerts } from './alerts/sensor-alerts.js';
import { lastReadingPerSensor, lastReadingPerSensorPg } from './alerts/sensor-seed.js';
import { alertsRoutes } from './alerts/alerts-route.js';
import { WatchdogAlerts } from './alerts/watchdog-alerts.js';
import { AvailabilityTracker } from './availability/availability-tracker.js';
import { PgAvailability } from './availability/pg-availability.js';
import { HttpService } from './http/http-service.js';
import { WebPage } from './http/static.js';
import type { MailCredentials } from './alerts/mail-account.js';
import { ConfigError, readMailCredentials, readMqttCredentials, type Config } from './config.js';
import { MessageDecoder, type DecodeResult } from './decoders/index.js';
import { ReadingMerger } from './ingest/reading-merger.js';
import { createAppLogger, loggerOptionsFor, type AppLogger } from './logging/logger.js';
import { ActivitySummary } from './logging/activity-summary.js';
import { MessageDebugLog } from './logging/message-log.js';
import { MqttDebugLog } from './logging/mqtt-debug-log.js';
import { Recovery } from './recovery/index.js';
import { resolveRecoveryConfig } from './recovery/options.js';
import type { Logger } from './logging/types.js';
import { rereadBrokerAccessFiles } from './mqtt/broker-access-flags.js';
import { EmbeddedBroker } from './mqtt/embedded-broker.js';
import { MqttListener, type InboundMessage, type MessageSink } from './mqtt/listener.js';
import { DurableIncomingStore } from './mqtt/qos2-store.js';
import { DatabaseArchiver } from './store/database-archiver.js';
import { ReadingStore, type HeldQos2Message, type IncomingMessage } from './store/reading-store.js';
import { ReadingWriter } from './store/reading-writer.js';
import { PgReadingStore } from './store/postgres/pg-store.js';
import { sharedTopics } from './mqtt/shared-subscription.js';
import { nowMicros } from './store/time.js';
import { realTimers, type Timers } from './timers.js';
import { VERSION, VERSION_LINE } from './version.js';
import { Watchdog } from './watchdog.js';

export interface AppDeps {
  /** A logger to use instead of creating the file logger (tests). */
  logger?: AppLogger;
  timers?: Timers;
  /** Called when the app hits an unrecoverable error (e.g. broker refused credentials). */
  onFatal?: (err: Error) => void;
  /** Name resolution for the broker host (tests: a name that resolves only later). */
  lookup?: LookupFunction;
}

export class ListenerApp {
  private logger: AppLogger | undefined;
  private log!: Logger;
  private store: ReadingStore | undefined;
  private pgStore: PgReadingStore | undefined;
  private writer: ReadingWriter | undefined;
  private listener: MqttListener | undefined;
  private broker: EmbeddedBroker | undefined;
  private dog: Watchdog | undefined;
  private alerts: WatchdogAlerts | undefined;
  private archiver: DatabaseArchiver | undefined;
  private qos2Store: DurableIncomingStore | undefined;
  private mqttDebugLog: MqttDebugLog | undefined;
  private mailer: AlertMailer | undefined;
  private sensorAlerts: SensorAlerts | undefined;
  private recoveryPart: Recovery | undefined;
  private availability: AvailabilityTracker | undefined;
  private http: HttpService | undefined;
  private summary: ActivitySummary | undefined;
  private running = false;
  private stopping: Promise<void> | undefined;
  private readonly startAbort = new AbortController();
  /** Last message seen (any kind), for the watchdog and status. */
  readonly activity = { messages: 0, readings: 0, rejected: 0, ignored: 0, lastMessageAt: 0, lastSensor: '' };
  private readonly decoder: MessageDecoder;
  private merger: ReadingMerger | undefined;

  constructor(
    readonly config: Config,
    private readonly deps: AppDeps = {},
  ) {
    this.decoder = new MessageDecoder(config.decoding.routes, config.decoding.mapping);
  }

  get mqtt(): MqttListener | undefined {
    return this.listener;
  }

  get readingWriter(): ReadingWriter | undefined {
    return this.writer;
  }

  get readingStore(): ReadingStore | undefined {
    return this.store;
  }

  get postgresStore(): PgReadingStore | undefined {
    return this.pgStore;
  }

  get embeddedBroker(): EmbeddedBroker | undefined {
    return this.broker;
  }

  get watchdog(): Watchdog | undefined {
    return this.dog;
  }

  get watchdogAlerts(): WatchdogAlerts | undefined {
    return this.alerts;
  }

  get databaseArchiver(): DatabaseArchiver | undefined {
    return this.archiver;
  }

  /** Per-sensor alerts; snapshot() is what /api/alerts shows (via alertsReport). */
  get sensorAlertChecks(): SensorAlerts | undefined {
    return this.sensorAlerts;
  }

  get recovery(): Recovery | undefined {
    return this.recoveryPart;
  }

  get availabilityTracker(): AvailabilityTracker | undefined {
    return this.availability;
  }

  /** The status service (--http): other features add routes or a fallback to it. */
  get httpService(): HttpService | undefined {
    return this.http;
  }

  async start(): Promise<void> {
    if (this.running) return;
    const c = this.config;
    this.logger = this.deps.logger ?? createAppLogger(loggerOptionsFor(c));
    this.log = this.logger.child('app');
    this.log.info(`mqtt-iot-listener ${VERSION} starting (pid ${process.pid})`);
    const storeLog = this.logger.child('store');
    try {
      let backend: ReadingStore | PgReadingStore;
      if (c.postgresUrl !== undefined) {
        this.pgStore = new PgReadingStore({ url: c.postgresUrl, clientId: c.clientId, log: storeLog });
        await this.openPostgres(this.pgStore, storeLog);
        if (!this.pgStore.isOpen) return; // stopped while waiting for the server
        backend = this.pgStore;
        storeLog.info(`database ${this.pgStore.description} open (PostgreSQL)`);
      } else {
        this.store = new ReadingStore(c.dbFile, { durable: c.durable });
        this.store.open();
        backend = this.store;
        storeLog.info(`database ${c.dbFile} open (WAL, synchronous=${c.durable ? 'FULL' : 'NORMAL'})`);
      }
      // Per-message lines only at debug: at other levels they cost nothing, not even a call.
      const messageLog = c.logLevel === 'debug' ? new MessageDebugLog(this.logger.child('message')) : undefined;
      this.summary = new ActivitySummary({ log: this.logger.child('summary'), timers: this.deps.timers ?? realTimers });
      this.writer = new ReadingWriter(backend, {
        timers: this.deps.timers ?? realTimers,
        onCommitError: (err, attempt, pending) => {
          if (attempt === 1 || attempt % 10 === 0) {
            storeLog.error(`cannot commit ${pending} message(s), nothing acknowledged; retrying (attempt ${attempt}): ${err.message}`);
          }
          if (attempt === 1) this.alerts?.storageFailing(Date.now(), err.message, pending);
        },
        onRecovered: (attempts) => {
          storeLog.warn(`database writable again after ${attempts} failed commit(s)`);
          this.alerts?.storageRecovered();
        },
        onCommitted: (outcome, items) => {
          messageLog?.noteBatch(outcome, items);
          this.summary?.noteBatch(outcome, items);
          if (outcome.sensorRows > 0) storeLog.info(`${outcome.sensorRows} sensor metadata change(s) recorded`);
          if (outcome.duplicates > 0) storeLog.debug(`${outcome.duplicates} redelivered message(s) already stored; acknowledged only`);
          this.archiver?.noteStored(outcome.stored);
          this.sensorAlerts?.noteCommitted(items);
        },
      });
      const writer = this.writer;
      this.merger = new ReadingMerger({
        timers: this.deps.timers ?? realTimers,
        submit: (message, committed) => writer.submit(message, committed),
        onReading: (reading) => {
          this.activity.readings++;
          this.activity.lastSensor = reading.sensorName;
        },
      });
      const availabilityTopics = c.availabilityTopics ?? [];
      if (this.store) {
        const sqlite = this.store;
        this.archiver = new DatabaseArchiver(sqlite, { maxBytes: c.dbArchiveSize, log: storeLog });
        this.archiver.start();
        this.availability = new AvailabilityTracker({ filters: availabilityTopics, database: () => sqlite.database, log: this.logger.child('availability') });
        this.availability.start();
      } else if (availabilityTopics.length > 0) {
        // PostgreSQL: its own connection; its table beside the readings.
        this.availability = new AvailabilityTracker({ filters: availabilityTopics, storage: new PgAvailability(c.postgresUrl!, storeLog), log: this.logger.child('availability') });
        await this.availability.start();
      }
      await this.startSensorAlerts();

      if (c.embeddedBroker) {
        const brokerLog = this.logger.child('broker');
        const a = c.brokerAccess;
        this.broker = new EmbeddedBroker({
          host: c.embeddedBrokerHost,
          port: c.port,
          access: {
            listener: { username: c.mqtt.username, password: c.mqtt.password, clientId: c.clientId },
            users: a.users,
            ...(a.acl ? { acl: a.acl } : {}),
            allowAnonymous: a.allowAnonymous,
            publishFilters: this.devicePublishFilters(),
          },
          maxClients: a.maxClients,
          maxPacketBytes: a.maxPacketBytes,
          log: brokerLog,
        });
        await this.broker.start();
        const who = this.broker.access.open ? 'open to clients on this computer' : `${a.users.length} device user(s)${c.mqtt.username ? ' + the listener\'s user' : ''}${a.acl ? `, ACL ${a.aclFile}` : ''}`;
        brokerLog.info(`embedded broker listening on ${this.broker.host}:${this.broker.port} (${who}; at most ${a.maxClients} clients, packets up to ${a.maxPacketBytes} bytes)`);
        if (a.allowAnonymous) brokerLog.warn(`embedded broker lets anonymous clients in (--embedded-broker-allow-anonymous): anyone who reaches ${this.broker.host}:${this.broker.port} may publish readings`);
      }

      const mqttLog = this.logger.child('mqtt');
      if (c.mqttDebugLog !== undefined) {
        const rotateLog = this.logger.child('rotate');
        this.mqttDebugLog = new MqttDebugLog({
          file: c.mqttDebugLog,
          maxSize: c.archiveLogSize,
          maxArchives: c.maxLogArchives,
          schedule: c.logRotate,
          onEvent: (level, message) => rotateLog[level](message),
        });
        this.mqttDebugLog.start();
        mqttLog.info(`MQTT library debug output goes to ${c.mqttDebugLog}`);
      }
      if (c.mqtt.source === 'none') mqttLog.info(`no credentials file ${c.credentialsFile}: connecting anonymously`);
      else mqttLog.info(`credentials for user ${c.mqtt.username ?? '(none)'} from ${c.mqtt.source}`);
      this.qos2Store = new DurableIncomingStore(backend, {
        log: mqttLog,
        timers: this.deps.timers ?? realTimers,
        onOrphan: (held) => void this.storeHeldQos2([held], storeLog, 'whose broker session was lost'),
      });
      await this.storeHeldQos2(backend.allHeldQos2(), storeLog, 'received before the last stop');
      this.recoveryPart = this.newRecovery();
      this.recoveryPart?.start();
      this.broker?.access.setPublishFilters(this.devicePublishFilters());
      this.listener = new MqttListener(
        {
          host: c.embeddedBroker ? connectHost(c.embeddedBrokerHost) : c.broker,
          port: c.embeddedBroker && this.broker ? this.broker.port : c.port,
          tls: c.embeddedBroker ? false : c.tls,
          ...(c.caFile !== undefined ? { caFile: c.caFile } : {}),
          insecure: c.insecure,
          clientId: c.clientId,
          cleanSession: c.cleanSession,
          topics: c.shareGroup !== undefined ? sharedTopics(c.shareGroup, c.topics) : c.topics,
          qos: c.qos,
          qos0Topics: availabilityTopics,
          ...(c.mqtt.username !== undefined ? { username: c.mqtt.username } : {}),
          ...(c.mqtt.password !== undefined ? { password: c.mqtt.password } : {}),
          keepaliveSeconds: c.keepaliveSeconds,
          retryAuthFailures: c.retryAuthFailures,
          incomingStore: this.qos2Store,
          ...(this.deps.lookup ? { lookup: this.deps.lookup } : {}),
          ...this.recoveryPart?.listenerHooks(),
        },
        this.sink(),
        mqttLog,
        (err) => this.fatal(err),
      );
      await this.startWatchdog();
      if (c.http) {
        this.http = new HttpService(this, c.http, this.logger.child('http'));
        this.http.addRoutes(alertsRoutes(c.lastNoticeFile, () => this.sensorAlerts?.snapshot()));
        const page = new WebPage();
        this.http.addFallback((req, res) => page.handle(req, res));
        await this.http.start();
      }
      this.listener.start();
      this.dog?.start();
      this.summary.start();
      this.running = true;
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /**
   * Topics device users may publish to on the embedded broker: what the listener reads. Other
   * features that subscribe to more (availability, recovery) add their filters here.
   */
  private devicePublishFilters(): string[] {
    return [...this.config.topics, ...(this.config.availabilityTopics ?? []), ...(this.recoveryPart?.listenerHooks().extraSubscriptions ?? [])];
  }

  /** A line in the app's log from the process around it (signals, the instance lock). */
  note(level: 'error' | 'warn' | 'info', message: string): void {
    this.log?.[level](message);
  }

  /**
   * SIGHUP: reopens the log file (for external logrotate) and re-reads the credentials files
   * (MQTT -c, mail -m). New MQTT credentials are applied by reconnecting, new mail credentials by
   * the next alert. A file that has become unreadable or invalid is logged and the current
   * credentials are kept.
   */
  async reload(): Promise<void> {
    if (!this.running || !this.logger) return;
    this.logger.reopen();
    this.mqttDebugLog?.reopen();
    this.log.info(`SIGHUP: log file${this.mqttDebugLog ? 's' : ''} reopened; re-reading the credentials files`);
    this.reloadMailCredentials();
    this.sensorAlerts?.reloadRules();
    await this.reloadMqttCredentials();
    this.reloadBrokerUsers();
  }

  /** The embedded broker's users and ACL files: new logins and packets follow them at once. */
  private reloadBrokerUsers(): void {
    const a = this.config.brokerAccess;
    if (!this.broker || (a.usersFile === undefined && a.aclFile === undefined)) return;
    const log = this.logger!.child('broker');
    const warnings: string[] = [];
    try {
      const { users, acl } = rereadBrokerAccessFiles(a, warnings);
      this.broker.access.setRules(users, acl);
      log.info(`broker users and ACL re-read: ${users.length} device user(s)${acl ? `, ${acl.users.size} ACL user(s)` : ''}; connected clients keep their session`);
    } catch (err) {
      log.error(`keeping the current broker users and ACL: ${(err as Error).message}`);
    }
    for (const w of warnings) log.warn(w);
  }

  private async reloadMqttCredentials(): Promise<void> {
    const c = this.config;
    const mqttLog = this.logger!.child('mqtt');
    const warnings: string[] = [];
    let creds: Config['mqtt'];
    try {
      creds = readMqttCredentials(c.credentialsFile, c.credentialsExplicit, process.env, warnings);
    } catch (err) {
      mqttLog.error(`keeping the current MQTT credentials: ${(err as Error).message}`);
      return;
    }
    for (const w of warnings) mqttLog.warn(w);
    c.mqtt = creds;
    this.broker?.setCredentials(creds.username, creds.password);
    const changed = (await this.listener?.setCredentials(creds.username, creds.password)) ?? false;
    if (changed) mqttLog.info(`credentials changed (user ${creds.username ?? '(none)'} from ${creds.source}): reconnecting with them`);
    else mqttLog.info('credentials unchanged');
  }

  private reloadMailCredentials(): void {
    const c = this.config;
    const alertLog = this.logger!.child('alerts');
    const warnings: string[] = [];
    let mail: MailCredentials | undefined;
    try {
      mail = readMailCredentials(c.gmailCredentialsFile, c.gmailCredentialsExplicit, warnings);
    } catch (err) {
      alertLog.error(`keeping the current mail credentials: ${(err as Error).message}`);
      return;
    }
    for (const w of warnings) alertLog.warn(w);
    if (JSON.stringify(mail) === JSON.stringify(c.mail)) {
      alertLog.info('mail credentials unchanged');
      return;
    }
    if (mail) c.mail = mail;
    else delete c.mail;
    if (mail && this.mailer) this.mailer.setCredentials(mail);
    else {
      this.mailer = mail ? this.newMailer(mail, alertLog) : undefined;
      this.alerts?.setMailer(this.mailer);
    }
    alertLog.info(mail ? `mail credentials changed: alerts go from ${mail.from} to ${mail.to.join(', ')}` : 'mail credentials file gone: alerts are written to this log only');
  }

  private newMailer(mail: MailCredentials, log: Logger): AlertMailer {
    const c = this.config;
    return new AlertMailer({ host: c.smtpHost, port: c.smtpPort, secure: c.smtpSecure, insecure: c.smtpInsecure, credentials: mail }, log, this.deps.timers ?? realTimers);
  }

  /**
   * QoS 2 messages acknowledged with PUBREC but never released by the broker (PUBREL), committed
   * at once (the same transaction removes them from qos2_incoming). At start: those of before the
   * last stop or crash, before the client connects, so a PUBREL the broker resends finds them gone
   * and is just completed. While running: one whose packet id a new broker session reuses.
   */
  private async storeHeldQos2(held: readonly HeldQos2Message[], log: Logger, why: string): Promise<void> {
    if (held.length === 0) return;
    for (const h of held) {
      this.writer!.submit({
        topic: h.topic,
        payload: h.payload,
        receivedMicros: h.receivedMicros,
        packetId: h.packetId,
        dup: h.dup,
        qos: 2,
        result: this.decoder.decode(h.topic, h.payload),
      });
    }
    if (!(await this.writer!.settle())) {
      // At start: do not connect (a PUBREL for one of them would store it a second time).
      if (!this.running) throw new Error(`cannot store ${held.length} QoS 2 message(s) ${why}; the database does not take writes`);
      log.error(`cannot store ${held.length} QoS 2 message(s) ${why} yet; the commit is retried`);
      return;
    }
    log.warn(`stored ${held.length} QoS 2 message(s) ${why} (acknowledged with PUBREC, never released by the broker)`);
  }

  /** Stops everything; safe to call more than once and from a failed start(). */
  stop(): Promise<void> {
    if (!this.stopping) this.stopping = this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    this.running = false;
    await this.http?.stop();
    // First: no restart may create a new client while the listener is being stopped.
    await this.dog?.stop();
    const sensorAlertsStopped = this.sensorAlerts?.stop();
    await this.alerts?.stop(); // also aborts a sensor alert digest in flight (one mailer)
    await sensorAlertsStopped;
    this.summary?.stop();
    this.listener?.pause();
    this.qos2Store?.stop();
    // Values waiting to be merged into one reading go to the writer now, so its stop commits them.
    this.merger?.stop();
    if (this.writer) {
      const lost = await this.writer.stop();
      if (lost > 0) this.log?.error(`${lost} message(s) could not be committed at shutdown; they were not acknowledged`);
    }
    const lostChanges = (await this.availability?.stop()) ?? 0;
    await this.availability?.storage.close?.();
    if (lostChanges > 0) this.log?.error(`${lostChanges} availability change(s) could not be stored at shutdown; they were not acknowledged`);
    await this.archiver?.stop();
    await this.listener?.stop();
    await this.recoveryPart?.stop();
    await this.mqttDebugLog?.stop();
    this.store?.close();
    await this.pgStore?.close();
    await this.broker?.stop();
    const t = this.writer?.totals;
    if (t) this.log?.info(`stopped: ${t.stored} readings stored, ${t.rejected} rejected, ${t.ignored} ignored, ${t.duplicates} duplicates skipped, in ${t.commits} commits (${Math.round(t.commitMs)} ms)`);
    if (!this.deps.logger) await this.logger?.close();
  }

  /** Before the first commit (held QoS 2 messages), so every committed reading is seen. */
  private async startSensorAlerts(): Promise<void> {
    const c = this.config;
    if (!c.sensorAlerts) return;
    this.sensorAlerts = new SensorAlerts({
      config: c.sensorAlerts,
      muteMs: c.silenceMinutes * 60_000,
      mailer: () => this.mailer,
      timers: this.deps.timers ?? realTimers,
      log: this.logger!.child('alerts'),
      lastReadings: () => (c.postgresUrl !== undefined ? lastReadingPerSensorPg(c.postgresUrl) : Promise.resolve(lastReadingPerSensor(c.dbFile))),
      context: () => ({ host: hostname(), version: VERSION_LINE, pid: process.pid }),
    });
    await this.sensorAlerts.start();
    if (c.shareGroup !== undefined) {
      this.logger!.child('alerts').warn(
        `sensor alerts with --share-group: this member judges only the readings the broker hands to it, and every member with these flags mails on its own; turn them on for one member only`,
      );
    }
  }

  /**
   * PostgreSQL down at start (booting together with the listener, restarting): wait for it with
   * backoff instead of exiting, as for a broker outage; nothing is subscribed meanwhile, so the
   * broker keeps the readings. A bad password or database name is retried too (logged each time
   * the delay grows), since a DBA may be fixing it.
   */
  private async openPostgres(store: PgReadingStore, log: Logger): Promise<void> {
    const timers = this.deps.timers ?? realTimers;
    const abort = this.startAbort.signal;
    for (let attempt = 1; !this.stopping && !abort.aborted; attempt++) {
      try {
        await store.open();
        if (attempt > 1) log.info(`PostgreSQL reachable after ${attempt} attempts`);
        return;
      } catch (err) {
        const delay = Math.min(30_000, 500 * 2 ** Math.min(attempt - 1, 10));
        if (attempt === 1 || delay < 30_000 || attempt % 10 === 0) {
          log.error(`cannot open the database: ${(err as Error).message}; retrying in ${Math.round(delay / 1000)} s (attempt ${attempt})`);
        }
        await new Promise<void>((resolve) => {
          const timer = timers.setTimeout(done, delay);
          function done(): void {
            abort.removeEventListener('abort', onAbort);
            resolve();
          }
          function onAbort(): void {
            timers.clearTimeout(timer);
            done();
          }
          abort.addEventListener('abort', onAbort);
        });
      }
    }
  }

  /**
   * A stop signal while start() still waits (for PostgreSQL at boot): start() returns at once
   * without connecting, and the stop that follows finds nothing half-open.
   */
  cancelStart(): void {
    this.startAbort.abort();
  }

  /** Watchdog + alerts: built before the listener starts so the mute state is loaded first. */
  private async startWatchdog(): Promise<void> {
    const c = this.config;
    const timers = this.deps.timers ?? realTimers;
    const periodMs = c.timerCheckMinutes * 60_000;
    const startedAt = timers.now();
    const alertLog = this.logger!.child('alerts');
    this.mailer = c.mail ? this.newMailer(c.mail, alertLog) : undefined;
    this.alerts = new WatchdogAlerts({
      mailer: this.mailer,
      mute: new MuteState(c.lastNoticeFile, alertLog, VERSION_LINE),
      silenceMs: c.silenceMinutes * 60_000,
      periodMs,
      log: alertLog,
      credentialsFile: c.gmailCredentialsFile,
      now: () => timers.now(),
      context: () => ({
        host: hostname(),
        broker: this.listener?.brokerUrl ?? c.broker,
        version: VERSION_LINE,
        pid: process.pid,
        startedAt,
        periodMs,
        silenceMs: c.silenceMinutes * 60_000,
        lastNoticeFile: c.lastNoticeFile,
        messages: this.activity.messages,
        readings: this.activity.readings,
        rejected: this.activity.rejected,
        lastSensor: this.activity.lastSensor,
      }),
    });
    await this.alerts.start();
    const alerts = this.alerts;
    this.dog = new Watchdog({
      periodMs,
      timers,
      log: this.logger!.child('watchdog'),
      restart: async () => {
        await this.listener?.restart();
      },
      onNoMessages: (facts) => alerts.noMessages(facts),
      onRecovered: (facts) => alerts.recovered(facts),
    });
  }

  /** Outage log and recovery roles (config.recovery, or the outage log alone); SQLite only for now. */
  private newRecovery(): Recovery | undefined {
    const c = this.config;
    const store = this.store;
    const writer = this.writer!;
    if (!store) {
      if (c.recovery?.request || c.recovery?.serve) throw new ConfigError('--recovery and --serve-recovery need an SQLite database (-d <file>); they are not available with PostgreSQL yet');
      return undefined;
    }
    return new Recovery({
      config: c.recovery ?? resolveRecoveryConfig({}, c.clientId),
      dbFile: c.dbFile,
      database: () => store.database,
      flushLive: () => writer.flush() && writer.pending === 0,
      rejectMessage: (m, reason, committed) =>
        writer.submit(
          { topic: m.topic, payload: m.payload, receivedMicros: nowMicros(), packetId: m.packetId, dup: m.dup, qos: m.qos, result: { kind: 'rejection', reason, decoder: 'recovery' } },
          committed,
        ),
      publish: async (topic, payload) => {
        if (!this.listener) throw new Error('not connected');
        await this.listener.publish(topic, payload, 1);
      },
      timers: this.deps.timers ?? realTimers,
      log: this.logger!.child('recovery'),
    });
  }

  private fatal(err: Error): void {
    if (this.deps.onFatal) this.deps.onFatal(err);
    else void this.stop();
  }

  /** Activity of the rarer results: several readings, ignored (one debug line each), parts. */
  private noteOther(result: DecodeResult, topic: string, log: Logger): void {
    if (result.kind === 'readings') {
      this.activity.readings += result.readings.length;
      this.activity.lastSensor = result.readings[result.readings.length - 1]!.sensorName;
    } else if (result.kind === 'ignored') {
      this.activity.ignored++;
      log.debug(`ignored message on ${truncate(topic, 200)}: ${result.reason}`);
    }
  }

  private sink(): MessageSink {
    const c = this.config;
    const log = this.logger!.child('decode');
    return {
      accept: (m: InboundMessage, committed: () => void): boolean => {
        const recovery = this.recoveryPart?.accept(m, committed);
        if (recovery !== undefined) return recovery;
        this.activity.messages++;
        this.activity.lastMessageAt = Date.now();
        // Availability (LWT) topics are claimed before decoding; their retained messages count.
        if (this.availability?.claims(m.topic)) {
          this.dog?.noteMessage(true);
          this.availability!.accept(m, committed);
          return true;
        }
        if (m.retain && !c.acceptRetained) {
          log.debug(`skipped a retained message on ${m.topic} (use --accept-retained to store them)`);
          this.dog?.noteMessage(true);
          committed();
          return true;
        }
        const result = this.decoder.decode(m.topic, m.payload);
        if (result.kind === 'reading') {
          this.activity.readings++;
          this.activity.lastSensor = result.reading.sensorName;
        } else if (result.kind === 'rejection') {
          this.activity.rejected++;
          log.warn(`rejected message on ${truncate(m.topic, 200)}: ${result.reason}`);
        } else this.noteOther(result, m.topic, log);
        this.dog?.noteMessage(result.kind !== 'rejection');
        // One object literal of a fixed shape (hot path: a conditional spread was measurably slower).
        const message: IncomingMessage = {
          topic: m.topic,
          payload: m.payload,
          receivedMicros: nowMicros(),
          packetId: m.packetId,
          dup: m.dup,
          qos: m.qos,
          result,
        };
        if (result.kind === 'part') {
          this.merger!.add(message, committed);
          return true;
        }
        return this.writer!.submit(message, committed);
      },
      onDrain: (cb) => this.writer!.onDrain(cb),
    };
  }
}

function connectHost(bindHost: string): string {
  return bindHost === '0.0.0.0' || bindHost === '::' ? '127.0.0.1' : bindHost;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
