// Mails the queued digest lines (AlertState.outbox) as ONE digest with the watchdog's mailer.
// Lines leave the outbox only when the server took the mail, so a mail server that is down loses
// nothing — not a recovery line either; the outbox is in the state file, so not across a restart
// either. Retried at the alert cycle, backing off to every 30 min; the failure is logged once per
// streak and its end once. The mute of a mailed problem runs -s from the delivery.
import type { AlertMailer } from './alert-mailer.js';
import type { AlertState } from './alert-state.js';
import { localTime } from './alert-text.js';
import { digestMessage, type DigestContext } from './digest-text.js';
import { problemKey } from './sensor-conditions.js';
import type { Logger } from '../logging/types.js';

const MAX_RETRY_WAIT_MS = 30 * 60_000;

export interface DigestOutboxOptions {
  mailer: () => AlertMailer | undefined;
  log: Logger;
  now: () => number;
  cycleMs: number;
  muteMs: number;
  context: () => DigestContext;
  /** The state changed (lines delivered, failure streak began or ended): persist it. */
  changed: () => void;
}

export class DigestOutbox {
  private sending: Promise<void> | undefined;
  private failures = 0;
  private nextTryAt = 0;
  private halted = false;
  readonly stats = { digests: 0, failedTries: 0 };

  constructor(
    private readonly state: () => AlertState,
    private readonly o: DigestOutboxOptions,
  ) {}

  /** Sends what is queued unless a send runs or the retry wait is not over. Never rejects. */
  deliver(): Promise<void> {
    if (this.sending) return this.sending;
    const mailer = this.o.mailer();
    if (this.halted || !mailer || this.state().outbox.length === 0 || this.o.now() < this.nextTryAt) return Promise.resolve();
    this.sending = this.send(mailer).finally(() => {
      this.sending = undefined;
      // Lines queued while that mail was on its way go now, not a cycle later.
      if (this.failures === 0) void this.deliver();
    });
    return this.sending;
  }

  /** No more sends; waits for one in flight (the mailer's stop() aborts it). */
  async stop(): Promise<void> {
    this.halted = true;
    await this.sending;
  }

  private async send(mailer: AlertMailer): Promise<void> {
    const state = this.state();
    const lines = state.outbox.slice();
    const message = digestMessage(this.o.context(), lines, this.o.now());
    try {
      const info = await mailer.sendOnce(message);
      const now = this.o.now();
      // Lines queued while this mail was on its way stay for the next digest.
      state.outbox.splice(0, lines.length);
      this.stats.digests++;
      this.restartMutes(state, lines, now);
      if (state.mailFailingSinceUTC !== undefined) {
        this.o.log.info(`sensor alert digest delivered (${lines.length} line(s)); the mail server had failed since ${localTime(Date.parse(state.mailFailingSinceUTC))}; it answered: ${info.response}`);
        delete state.mailFailingSinceUTC;
      } else {
        this.o.log.info(`sensor alert digest "${message.subject}" sent to ${mailer.recipients.join(', ')}; server answered: ${info.response}`);
      }
      this.failures = 0;
      this.nextTryAt = 0;
    } catch (err) {
      if (this.halted) return; // aborted by the stop: the lines stay queued in the state file
      this.stats.failedTries++;
      this.failures++;
      const wait = Math.min(MAX_RETRY_WAIT_MS, this.o.cycleMs * 2 ** (this.failures - 1));
      this.nextTryAt = this.o.now() + wait;
      if (state.mailFailingSinceUTC === undefined) {
        state.mailFailingSinceUTC = new Date(this.o.now()).toISOString();
        this.o.log.error(
          `sensor alert digest (${lines.length} line(s)) NOT sent via ${mailer.server}: ${(err as Error).message}; kept in ${this.o.context().stateFile} and retried (backing off to every ${MAX_RETRY_WAIT_MS / 60_000} min); not logged again until it goes through`,
        );
      }
    }
    this.o.changed();
  }

  private restartMutes(state: AlertState, lines: AlertState['outbox'], now: number): void {
    if (this.o.muteMs <= 0) return;
    const mailed = new Set(lines.filter((l) => l.type !== 'recovery').map((l) => problemKey(l.sensor, l.kind)));
    for (const m of state.mutes) {
      if (!mailed.has(problemKey(m.sensor, m.kind))) continue;
      m.mailedUTC = new Date(now).toISOString();
      m.untilUTC = new Date(now + this.o.muteMs).toISOString();
    }
  }
}
