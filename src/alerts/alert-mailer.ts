// Sends alert mails over SMTP with nodemailer: by default TLS to smtp.gmail.com:465 with the
// from-address and its app password, the local host name in EHLO when one is set. A failed send
// is retried with backoff and then given up with an error log: mail trouble never stops the
// listener. stop() aborts a send in flight and a pending retry, so nothing is left running.
import nodemailer from 'nodemailer';
import type { MailCredentials } from './mail-account.js';
import { rfc5322Date, type AlertMessage } from './alert-text.js';
import type { Logger } from '../logging/types.js';
import { realTimers, type Timers } from '../timers.js';

export interface MailSettings {
  host: string;
  port: number;
  /** TLS from the start (465); false = plain, upgraded with STARTTLS when the server offers it. */
  secure: boolean;
  /** Accept a self-signed server certificate (test servers only). */
  insecure: boolean;
  credentials: MailCredentials;
  /** Per-connection timeouts; generous defaults for a slow link. */
  timeoutMs?: number;
}

export interface SentInfo {
  /** The server's final answer, e.g. "250 2.0.0 OK ...". */
  response: string;
  accepted: string[];
  rejected: string[];
  messageId: string;
}

export interface RetryPlan {
  tries: number;
  /** Wait before the 2nd try; doubled before each further one. */
  firstDelayMs: number;
}

type Transport = ReturnType<typeof createTransport>;

function createTransport(s: MailSettings) {
  const timeout = s.timeoutMs ?? 30_000;
  return nodemailer.createTransport({
    host: s.host,
    port: s.port,
    secure: s.secure,
    auth: { user: s.credentials.from, pass: s.credentials.password },
    ...(s.credentials.localHostName !== undefined ? { name: s.credentials.localHostName } : {}),
    tls: { rejectUnauthorized: !s.insecure },
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout * 2,
    // Alert mails are plain text we compose ourselves: no file or URL content, ever.
    disableFileAccess: true,
    disableUrlAccess: true,
  });
}

function addresses(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.map((a) => (typeof a === 'string' ? a : String((a as { address?: unknown }).address ?? a)));
}

export class AlertMailer {
  private transport: Transport | undefined;
  private readonly inflight = new Set<AbortController>();
  private readonly waits = new Set<{ handle: unknown; resolve: () => void }>();
  private stopped = false;

  constructor(
    private readonly settings: MailSettings,
    private readonly log: Logger,
    private readonly timers: Timers = realTimers,
  ) {}

  /** "smtp.gmail.com:465 (TLS)", for logs and alert-test. */
  get server(): string {
    const s = this.settings;
    return `${s.host}:${s.port} (${s.secure ? 'TLS' : 'STARTTLS if offered'}${s.insecure ? ', certificate not verified' : ''})`;
  }

  get recipients(): readonly string[] {
    return this.settings.credentials.to;
  }

  start(): void {
    this.stopped = false;
    this.transport ??= createTransport(this.settings);
  }

  /** New credentials (SIGHUP re-read of -m): the next mail uses them; one in flight ends as it began. */
  setCredentials(credentials: MailCredentials): void {
    this.settings.credentials = credentials;
    const old = this.transport;
    this.transport = undefined;
    if (old && this.inflight.size === 0) old.close();
    if (!this.stopped && old) this.start();
  }

  /** Aborts a send in flight and any retry wait. Idempotent. */
  stop(): void {
    this.stopped = true;
    for (const c of this.inflight) c.abort(new Error('the listener is stopping'));
    this.inflight.clear();
    for (const w of this.waits) {
      this.timers.clearTimeout(w.handle);
      w.resolve();
    }
    this.waits.clear();
    this.transport?.close();
    this.transport = undefined;
  }

  /** One try; rejects with the server's or the network's error. */
  async sendOnce(message: AlertMessage): Promise<SentInfo> {
    if (this.stopped) throw new Error('alert mailer is stopped');
    this.start();
    const transport = this.transport!;
    const c = this.settings.credentials;
    const abort = new AbortController();
    this.inflight.add(abort);
    try {
      const info = await transport.sendMail({
        from: c.from,
        to: c.to,
        subject: message.subject,
        text: message.text,
        // nodemailer writes the Date in UTC; ours is in the machine's zone, DST included.
        date: rfc5322Date(new Date(this.timers.now())),
        signal: abort.signal,
      });
      return {
        response: String(info.response ?? ''),
        accepted: addresses(info.accepted),
        rejected: addresses(info.rejected),
        messageId: String(info.messageId ?? ''),
      };
    } finally {
      this.inflight.delete(abort);
    }
  }

  /** Tries up to plan.tries times with backoff; logs every step; never rejects. */
  async send(message: AlertMessage, plan: RetryPlan): Promise<SentInfo | undefined> {
    const what = `alert mail "${message.subject}"`;
    for (let attempt = 1; attempt <= plan.tries; attempt++) {
      if (this.stopped) return undefined;
      try {
        this.log.info(`sending ${what} to ${this.recipients.join(', ')} via ${this.server}${attempt > 1 ? ` (try ${attempt} of ${plan.tries})` : ''}`);
        const info = await this.sendOnce(message);
        this.log.info(`${what} sent; server answered: ${info.response}`);
        if (info.rejected.length > 0) this.log.warn(`${what}: the server refused recipient(s) ${info.rejected.join(', ')}`);
        return info;
      } catch (err) {
        const e = err as Error & { permanent?: boolean };
        if (this.stopped) {
          this.log.warn(`${what} abandoned: the listener is stopping`);
          return undefined;
        }
        // A permanent refusal (e.g. wrong app password) will not heal by retrying within minutes.
        if (attempt >= plan.tries || e.permanent === true) {
          this.log.error(`${what} NOT sent after ${attempt} tr${attempt === 1 ? 'y' : 'ies'} via ${this.server}: ${e.message}; giving up (the listener keeps running)`);
          return undefined;
        }
        const delay = plan.firstDelayMs * 2 ** (attempt - 1);
        this.log.warn(`${what} failed (try ${attempt} of ${plan.tries}) via ${this.server}: ${e.message}; retrying in ${(delay / 1000).toFixed(1)} s`);
        await this.wait(delay);
      }
    }
    return undefined;
  }

  private wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const entry = {
        handle: undefined as unknown,
        resolve,
      };
      entry.handle = this.timers.setTimeout(() => {
        this.waits.delete(entry);
        resolve();
      }, ms);
      this.waits.add(entry);
    });
  }
}
