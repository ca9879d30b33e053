// Per-sensor alerts: a sensor gone quiet, a battery running low, a value past a rule's limit.
// Every cycle (--alert-cycle, 1 min) the sensors' conditions are judged; new problems and ended
// ones become lines of ONE digest (mail via the watchdog's mailer, and the webhook). Each
// (sensor, kind) is muted for -s after it was mailed; a recovery line is sent only for a problem
// whose line went out. Problems, mutes and undelivered lines live in the state file, so a restart
// neither repeats a mail nor loses a recovery notice.
import { otherReadings, type BatchOutcome, type IncomingMessage } from '../store/reading-store.js';
import type { Logger } from '../logging/types.js';
import type { Timers } from '../timers.js';
import type { AlertMailer } from './alert-mailer.js';
import { AlertStateFile, type AlertState, type DigestLine, type ProblemRecord } from './alert-state.js';
import { localTime, minutes } from './alert-text.js';
import { DigestOutbox } from './digest-outbox.js';
import { digestJson, type DigestContext } from './digest-text.js';
import { batteryRule, readRulesFile, type AlertRule } from './rules.js';
import type { SensorAlertConfig } from './sensor-alert-options.js';
import { problemKey, SensorConditions, SILENT, type Finding } from './sensor-conditions.js';
import { WebhookSender } from './webhook.js';

/** otherReadings() counts ignored messages into an outcome; ours is thrown away. */
const SCRATCH: BatchOutcome = { stored: 0, rejected: 0, duplicates: 0, ignored: 0, sensorRows: 0 };

export interface SensorAlertsOptions {
  config: SensorAlertConfig;
  /** -s: mute per (sensor, kind) after a mail. */
  muteMs: number;
  /** The watchdog's mailer as it is now (SIGHUP may replace it); undefined: lines are logged only. */
  mailer: () => AlertMailer | undefined;
  timers: Timers;
  log: Logger;
  /** Each sensor's last reading time in the database (ms), read once at start. */
  lastReadings: () => Promise<Map<string, number>>;
  context: () => Omit<DigestContext, 'muteMs' | 'stateFile'>;
}

export class SensorAlerts {
  private state!: AlertState;
  private readonly file: AlertStateFile;
  private conditions!: SensorConditions;
  private rules: AlertRule[];
  private fileRules: AlertRule[];
  private readonly outbox: DigestOutbox;
  private readonly webhook: WebhookSender | undefined;
  private timer: unknown;
  private running = false;
  /** Sensor names of rules already warned about ("not seen yet"), so each is warned once. */
  private readonly warnedSensors = new Set<string>();
  readonly stats = { checks: 0, problems: 0, recoveries: 0, muted: 0 };

  constructor(private readonly o: SensorAlertsOptions) {
    this.file = new AlertStateFile(o.config.stateFile, o.log);
    this.fileRules = o.config.rules;
    this.rules = this.allRules();
    this.outbox = new DigestOutbox(() => this.state, {
      mailer: o.mailer,
      log: o.log,
      now: () => o.timers.now(),
      cycleMs: o.config.cycleMs,
      muteMs: o.muteMs,
      context: () => this.digestContext(),
      changed: () => this.save(),
    });
    if (o.config.webhookUrl !== undefined) this.webhook = new WebhookSender({ url: o.config.webhookUrl, log: o.log, timers: o.timers });
  }

  get mailStats(): DigestOutbox['stats'] {
    return this.outbox.stats;
  }

  /** Loads the state file, seeds each sensor's last reading from the database, starts the cycle. */
  async start(): Promise<void> {
    if (this.running) return;
    const c = this.o.config;
    const now = this.o.timers.now();
    this.state = this.file.load(now);
    this.conditions = new SensorConditions(this.rules, c.silenceMs, now);
    try {
      for (const [sensor, at] of await this.o.lastReadings()) this.conditions.seed(sensor, at);
    } catch (err) {
      // Not worth refusing to store readings over: only sensors that never report again go unnoticed.
      this.o.log.warn(`cannot read the sensors' last readings from the database (${(err as Error).message}): silence is judged only for sensors that report after this start`);
    }
    const kinds = [
      ...(c.silenceMs !== undefined ? [`silent after ${minutes(c.silenceMs)} min`] : []),
      ...this.rules.map((r) => `${r.sensor === '*' ? 'any sensor' : r.sensor}: ${r.kind}`),
    ];
    this.o.log.info(
      `sensor alerts on (${kinds.join('; ')}), checked every ${minutes(c.cycleMs)} min; one digest per cycle${this.webhook ? `, also to ${this.webhook.target}` : ''}; ${this.state.problems.length} problem(s) and ${this.state.outbox.length} undelivered line(s) remembered`,
    );
    this.warnUnknownSensors();
    this.running = true;
    this.timer = this.o.timers.setInterval(() => this.check(), c.cycleMs);
  }

  /** Readings just committed (the writer's onCommitted); cheap, on the write path. */
  noteCommitted(items: readonly IncomingMessage[]): void {
    if (!this.running) return;
    const at = this.o.timers.now();
    for (const item of items) {
      const r = item.result;
      if (r.kind === 'reading') this.conditions.noteReading(r.reading.sensorName, r.reading, at);
      else if (r.kind !== 'rejection') {
        // Several readings in one message, or a part stored as its own row: the rows the store wrote.
        for (const reading of otherReadings(r, SCRATCH)) this.conditions.noteReading(reading.sensorName, reading, at);
      }
    }
  }

  /** SIGHUP: re-reads the rule file; a broken file is logged and the current rules are kept. */
  reloadRules(): void {
    const file = this.o.config.rulesFile;
    if (file === undefined || !this.running) return;
    try {
      this.fileRules = readRulesFile(file);
    } catch (err) {
      this.o.log.error(`keeping the current alert rules: ${(err as Error).message}`);
      return;
    }
    this.rules = this.allRules();
    this.conditions.setRules(this.rules);
    this.o.log.info(`alert rules re-read from ${file}: ${this.fileRules.length} rule(s)`);
    this.warnUnknownSensors();
  }

  /** The state as the `alerts` command and /api/alerts show it. */
  snapshot(): AlertState | undefined {
    return this.running ? structuredClone(this.state) : undefined;
  }

  /** One cycle: judge every sensor, queue the digest lines, send. Synchronous but for the sending. */
  check(): void {
    if (!this.running) return;
    this.stats.checks++;
    const now = this.o.timers.now();
    const active = new Map(this.state.problems.map((p) => [problemKey(p.sensor, p.kind), p]));
    const lines: DigestLine[] = [];
    let changed = this.expireMutes(now);
    for (const [key, verdict] of this.conditions.verdicts(now)) {
      const known = active.get(key);
      if (verdict.state === 'holds' && !known) {
        active.set(key, this.raise(verdict.finding, key, now, lines));
        changed = true;
      } else if (verdict.state === 'holds' && known) {
        changed = this.remind(known, verdict.finding, key, now, lines) || changed;
      } else if (verdict.state === 'clear' && known) {
        active.delete(key);
        changed = true;
        this.stats.recoveries++;
        this.o.log.info(`sensor ${known.sensor}: ${known.kind} is over: ${verdict.detail}${known.announced ? '' : ' (its problem was muted: no recovery line)'}`);
        if (known.announced) lines.push({ type: 'recovery', sensor: known.sensor, kind: known.kind, atUTC: iso(now), text: verdict.detail });
      }
    }
    changed = this.dropRetiredRules(active) || changed;
    if (changed) this.state.problems = [...active.values()];
    if (lines.length > 0) this.dispatch(lines, now);
    if (changed || lines.length > 0) this.save();
    void this.outbox.deliver();
  }

  /** Stops the cycle and the webhook; a mail in flight is aborted by the mailer's own stop(). Idempotent. */
  async stop(): Promise<void> {
    if (this.timer !== undefined) this.o.timers.clearInterval(this.timer);
    this.timer = undefined;
    this.running = false;
    await Promise.all([this.outbox.stop(), this.webhook?.stop()]);
    await this.file.flush();
  }

  private allRules(): AlertRule[] {
    const b = this.o.config.batteryLowPercent;
    return [...(b !== undefined ? [batteryRule(b)] : []), ...this.fileRules];
  }

  private raise(f: Finding, key: string, now: number, lines: DigestLine[]): ProblemRecord {
    this.stats.problems++;
    const mute = this.state.mutes.find((m) => problemKey(m.sensor, m.kind) === key);
    const muted = mute !== undefined && Date.parse(mute.untilUTC) > now;
    if (muted) {
      this.stats.muted++;
      this.o.log.info(`sensor ${f.sensor}: ${f.kind}: ${f.detail} — muted until ${localTime(Date.parse(mute.untilUTC))} (mailed ${localTime(Date.parse(mute.mailedUTC))}, -s ${minutes(this.o.muteMs)} min)`);
    } else {
      this.o.log.warn(`sensor ${f.sensor}: ${f.kind}: ${f.detail}`);
      lines.push({ type: 'problem', sensor: f.sensor, kind: f.kind, atUTC: iso(now), text: f.detail });
      this.mute(f, mute, now);
    }
    return { sensor: f.sensor, kind: f.kind, sinceUTC: iso(f.since), detail: f.detail, announced: !muted };
  }

  /** A problem that outlasted its mute is mailed again (once every -s; never with -s 0). */
  private remind(known: ProblemRecord, f: Finding, key: string, now: number, lines: DigestLine[]): boolean {
    if (this.o.muteMs <= 0) return false;
    const mute = this.state.mutes.find((m) => problemKey(m.sensor, m.kind) === key);
    if (mute !== undefined && Date.parse(mute.untilUTC) > now) return false;
    this.o.log.warn(`sensor ${f.sensor}: ${f.kind}: still: ${f.detail}`);
    lines.push({ type: 'reminder', sensor: f.sensor, kind: f.kind, atUTC: iso(now), text: f.detail });
    known.announced = true;
    known.detail = f.detail;
    this.mute(f, mute, now);
    return true;
  }

  /** Muted from the moment its line is queued; the outbox restarts the mute when the mail is delivered. */
  private mute(f: Finding, existing: AlertState['mutes'][number] | undefined, now: number): void {
    if (this.o.muteMs <= 0) return;
    const m = { sensor: f.sensor, kind: f.kind, mailedUTC: iso(now), untilUTC: iso(now + this.o.muteMs) };
    if (existing) Object.assign(existing, m);
    else this.state.mutes.push(m);
  }

  /** Lines go to the mail outbox (when mail is set up) and to the webhook; without either, the log is all. */
  private dispatch(lines: DigestLine[], now: number): void {
    const mailer = this.o.mailer();
    if (mailer) this.state.outbox.push(...lines);
    this.webhook?.post(digestJson(this.digestContext(), lines, now));
    if (!mailer && !this.webhook) this.o.log.warn(`sensor alert digest of ${lines.length} line(s) NOT mailed (no mail credentials): see the lines above`);
  }

  private expireMutes(now: number): boolean {
    const before = this.state.mutes.length;
    this.state.mutes = this.state.mutes.filter((m) => Date.parse(m.untilUTC) > now);
    return this.state.mutes.length !== before;
  }

  /** Problems of a rule that a SIGHUP removed end without a recovery line (nothing recovered). */
  private dropRetiredRules(active: Map<string, ProblemRecord>): boolean {
    const kinds = new Set([SILENT, ...this.rules.map((r) => r.kind)]);
    let dropped = false;
    for (const [key, p] of active) {
      if (kinds.has(p.kind) && (p.kind !== SILENT || this.o.config.silenceMs !== undefined)) continue;
      active.delete(key);
      dropped = true;
      this.o.log.info(`sensor ${p.sensor}: ${p.kind}: no longer checked (rule or flag removed); forgotten`);
    }
    return dropped;
  }

  private warnUnknownSensors(): void {
    const known = new Set(this.conditions.sensorNames);
    for (const r of this.fileRules) {
      if (r.sensor === '*' || known.has(r.sensor) || this.warnedSensors.has(r.sensor)) continue;
      this.warnedSensors.add(r.sensor);
      this.o.log.warn(`alert rule for sensor ${JSON.stringify(r.sensor)} (${r.kind}): no reading from this sensor yet; accepted — check the spelling if it never fires`);
    }
  }

  private digestContext(): DigestContext {
    return { ...this.o.context(), muteMs: this.o.muteMs, stateFile: this.o.config.stateFile };
  }

  private save(): void {
    this.state.updatedUTC = iso(this.o.timers.now());
    this.file.save(this.state);
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
