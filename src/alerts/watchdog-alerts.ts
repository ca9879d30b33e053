// Turns the watchdog's findings into mails: a "no messages" alert unless muted (-s, remembered in
// the last-notice file), and a "recovered" alert when messages flow again — only if a "no
// messages" mail went out for that outage. Mails go out one after another, so a recovery never
// overtakes the alert it answers; without mail credentials every alert is only logged.
import type { AlertMailer, RetryPlan } from './alert-mailer.js';
import { localTime, minutes, noMessagesAlert, recoveredAlert, storageAlert, type AlertContext, type NoMessagesFacts, type RecoveredFacts } from './alert-text.js';
import type { MuteState } from './mute-state.js';
import type { Logger } from '../logging/types.js';

export interface WatchdogAlertsOptions {
  /** Undefined: no mail credentials, alerts are logged only. */
  mailer: AlertMailer | undefined;
  mute: MuteState;
  silenceMs: number;
  periodMs: number;
  log: Logger;
  /** The listener's current state, read when an alert is composed. */
  context: () => AlertContext;
  /** Where the credentials would come from (for the "logged only" notice). */
  credentialsFile: string;
  /** The watchdog's clock (injectable for tests). */
  now: () => number;
}

/** Up to 3 tries within the watchdog period: waits of period/8 and period/4, at most 1 and 2 min. */
export function retryPlanFor(periodMs: number): RetryPlan {
  return { tries: 3, firstDelayMs: Math.max(10, Math.min(60_000, Math.round(periodMs / 8))) };
}

export class WatchdogAlerts {
  private queue: Promise<void> = Promise.resolve();
  private noMessagesPending = false;
  /** A "no messages" mail went out for the current outage, so its end deserves a mail too. */
  private outageMailed = false;
  private stopped = false;
  private storageAlerted = false;
  readonly stats = { sent: 0, muted: 0, failed: 0, loggedOnly: 0 };

  constructor(private readonly o: WatchdogAlertsOptions) {}

  async start(): Promise<void> {
    this.stopped = false;
    await this.o.mute.load();
    if (this.o.mailer) {
      this.o.mailer.start();
      this.o.log.info(`alerts by mail to ${this.o.mailer.recipients.join(', ')} via ${this.o.mailer.server}; at most one "no messages" alert every ${minutes(this.o.silenceMs)} min`);
      const until = this.o.mute.mutedUntil(this.o.now(), this.o.silenceMs);
      if (until !== undefined) this.o.log.info(`"no messages" alerts muted until ${localTime(until)} (last one sent ${localTime(this.o.mute.lastAlertAt!)})`);
    } else {
      this.o.log.info(`no mail credentials file ${this.o.credentialsFile}: alerts are written to this log only`);
    }
  }

  /** Mail credentials appeared, changed or went away (SIGHUP): alerts use this mailer from now on. */
  setMailer(mailer: AlertMailer | undefined): void {
    const old = this.o.mailer;
    if (old === mailer) return;
    this.o.mailer = mailer;
    old?.stop();
    if (!this.stopped) mailer?.start();
  }

  /** Aborts a mail in flight and waits for the queue to settle. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.o.mailer?.stop();
    await this.queue;
  }

  /** The watchdog restarted the MQTT side after a silent period. */
  noMessages(facts: NoMessagesFacts): void {
    if (this.stopped) return;
    const message = noMessagesAlert(this.o.context(), facts);
    const mailer = this.o.mailer;
    if (!mailer) {
      this.stats.loggedOnly++;
      this.o.log.warn(`ALERT (not mailed, no mail credentials): ${message.subject}`);
      return;
    }
    const until = this.o.mute.mutedUntil(facts.at, this.o.silenceMs);
    if (until !== undefined) {
      this.stats.muted++;
      this.o.log.info(`alert muted until ${localTime(until)} (last "no messages" alert sent ${localTime(this.o.mute.lastAlertAt!)}, -s ${minutes(this.o.silenceMs)} min): ${message.subject}`);
      return;
    }
    if (this.noMessagesPending) {
      this.o.log.info(`a "no messages" alert is still being sent (retrying); not sending another: ${message.subject}`);
      return;
    }
    this.noMessagesPending = true;
    this.enqueue(async () => {
      try {
        const sent = await mailer.send(message, retryPlanFor(this.o.periodMs));
        if (sent) {
          this.stats.sent++;
          this.outageMailed = true;
          // Only now: a mail that never left must not mute the next one.
          await this.o.mute.record(facts.at, message.subject);
        } else {
          this.stats.failed++;
        }
      } finally {
        this.noMessagesPending = false;
      }
    });
  }

  /** Messages flow again after one or more restarts. */
  recovered(facts: RecoveredFacts): void {
    if (this.stopped) return;
    const mailer = this.o.mailer;
    if (!mailer) {
      this.stats.loggedOnly++;
      this.o.log.info(`ALERT (not mailed, no mail credentials): ${recoveredAlert(this.o.context(), facts).subject}`);
      return;
    }
    this.enqueue(async () => {
      if (!this.outageMailed) {
        this.o.log.info('no recovery mail: no "no messages" mail went out for this outage (muted or not delivered)');
        return;
      }
      this.outageMailed = false;
      const sent = await mailer.send(recoveredAlert(this.o.context(), facts), retryPlanFor(this.o.periodMs));
      if (sent) this.stats.sent++;
      else this.stats.failed++;
    });
  }

  /**
   * The database refuses commits (disk full, locked). One alert per failure streak; mail is
   * muted by the same -s window as "no messages" alerts, so a flapping disk does not flood.
   */
  storageFailing(at: number, error: string, pending: number): void {
    if (this.stopped || this.storageAlerted) return;
    this.storageAlerted = true;
    const message = storageAlert(this.o.context(), at, error, pending);
    const mailer = this.o.mailer;
    if (!mailer) {
      this.stats.loggedOnly++;
      this.o.log.error(`ALERT (not mailed, no mail credentials): ${message.subject}`);
      return;
    }
    const until = this.o.mute.mutedUntil(at, this.o.silenceMs);
    if (until !== undefined) {
      this.stats.muted++;
      this.o.log.error(`ALERT muted until ${localTime(until)}: ${message.subject}`);
      return;
    }
    this.enqueue(async () => {
      const sent = await mailer.send(message, retryPlanFor(this.o.periodMs));
      if (sent) {
        this.stats.sent++;
        await this.o.mute.record(at, message.subject);
      } else {
        this.stats.failed++;
      }
    });
  }

  /** Commits succeed again: the next failure streak may alert again. */
  storageRecovered(): void {
    this.storageAlerted = false;
  }

  private enqueue(job: () => Promise<void>): void {
    this.queue = this.queue.then(async () => {
      if (this.stopped) return;
      try {
        await job();
      } catch (err) {
        // A bug here must not become an unhandled rejection that ends the listener.
        this.o.log.error(`alert handling failed: ${(err as Error).stack ?? String(err)}`);
      }
    });
  }
}
