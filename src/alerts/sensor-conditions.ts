// The sensors as the alerts see them: when each last reported and, per rule, since when its
// condition has held without a break. Fed with committed readings (the writer's onCommitted), so a
// rule's `for` is judged on every reading — a single spike between two checks resets it — and
// nothing polls the database. At start it is seeded with each sensor's last reading time from the
// database, so a sensor that went quiet while the listener was down is still noticed.
import { formatAge } from '../status.js';
import { localTime } from './alert-text.js';
import { holds, type AlertRule, type ReadingValues } from './rules.js';

export const SILENT = 'silent';

export interface Finding {
  sensor: string;
  kind: string;
  since: number;
  detail: string;
}

/**
 * holds: the problem is there now; clear: it is not; unknown: nothing seen since this start that
 * could tell, or a rule's condition met but not yet for its `for` (a remembered problem is then
 * kept as it is, and no new one raised).
 */
export type Verdict = { state: 'holds'; finding: Finding } | { state: 'clear'; detail: string } | { state: 'unknown' };

interface Streak {
  /** First reading of the current run of readings that met the condition. */
  since: number | undefined;
  value: number | null | undefined;
}

interface SensorView {
  lastSeen: number;
  /** A reading arrived since this start (not only the database's last one). */
  live: boolean;
  streaks: Map<string, Streak>;
  /** The rules that apply to this sensor with their streaks (built at its first reading). */
  checks: Array<{ rule: AlertRule; streak: Streak }> | undefined;
}

export function problemKey(sensor: string, kind: string): string {
  return `${sensor}\u0000${kind}`;
}

export class SensorConditions {
  private readonly sensors = new Map<string, SensorView>();

  constructor(
    private rules: readonly AlertRule[],
    private readonly silenceMs: number | undefined,
    private readonly startedAt: number,
  ) {}

  get sensorNames(): IterableIterator<string> {
    return this.sensors.keys();
  }

  setRules(rules: readonly AlertRule[]): void {
    this.rules = rules;
    // Streaks of a rule that is gone or changed would be judged against the wrong condition.
    for (const s of this.sensors.values()) {
      s.streaks.clear();
      s.checks = undefined;
    }
  }

  /** The database's last reading of a sensor (at start). */
  seed(sensor: string, lastSeen: number): void {
    if (!this.sensors.has(sensor)) this.sensors.set(sensor, { lastSeen, live: false, streaks: new Map(), checks: undefined });
  }

  /** A committed reading; cheap (runs after every commit). */
  noteReading(sensor: string, values: ReadingValues, at: number): void {
    let s = this.sensors.get(sensor);
    if (!s) {
      s = { lastSeen: at, live: true, streaks: new Map(), checks: undefined };
      this.sensors.set(sensor, s);
    }
    s.lastSeen = Math.max(s.lastSeen, at);
    s.live = true;
    s.checks ??= this.checksFor(sensor, s);
    for (const { rule, streak } of s.checks) {
      streak.value = values[rule.condition.column];
      if (holds(rule.condition, values)) streak.since ??= at;
      else streak.since = undefined;
    }
  }

  private checksFor(sensor: string, s: SensorView): Array<{ rule: AlertRule; streak: Streak }> {
    const checks: Array<{ rule: AlertRule; streak: Streak }> = [];
    for (const rule of this.rules) {
      if (rule.sensor !== '*' && rule.sensor !== sensor) continue;
      let streak = s.streaks.get(rule.kind);
      if (!streak) {
        streak = { since: undefined, value: undefined };
        s.streaks.set(rule.kind, streak);
      }
      checks.push({ rule, streak });
    }
    return checks;
  }

  /** Every (sensor, kind) this view can judge now, with its verdict. */
  *verdicts(now: number): Generator<[string, Verdict]> {
    for (const [sensor, s] of this.sensors) {
      if (this.silenceMs !== undefined) yield [problemKey(sensor, SILENT), this.silence(sensor, s, now)];
      for (const rule of this.rules) {
        if (rule.sensor !== '*' && rule.sensor !== sensor) continue;
        yield [problemKey(sensor, rule.kind), this.rule(sensor, s, rule, now)];
      }
    }
  }

  private silence(sensor: string, s: SensorView, now: number): Verdict {
    // Counted from the start at the earliest: while the listener was down, nobody could hear it.
    const quietMs = now - (s.live ? s.lastSeen : Math.max(s.lastSeen, this.startedAt));
    if (quietMs >= this.silenceMs!) {
      return { state: 'holds', finding: { sensor, kind: SILENT, since: s.lastSeen, detail: `no reading since ${localTime(s.lastSeen)} (${formatAge((now - s.lastSeen) / 1000)})` } };
    }
    return s.live ? { state: 'clear', detail: `reporting again, last reading ${localTime(s.lastSeen)}` } : { state: 'unknown' };
  }

  private rule(sensor: string, s: SensorView, rule: AlertRule, now: number): Verdict {
    const st = s.streaks.get(rule.kind);
    if (!st) return { state: 'unknown' };
    const c = rule.condition;
    if (st.since === undefined) {
      const value = st.value === null || st.value === undefined ? 'not reported' : String(st.value);
      return { state: 'clear', detail: rule.kind === 'battery low' ? `battery at ${value} %` : `${c.column} is ${value}` };
    }
    // Met, but not for long enough yet: no new problem, and a known one (e.g. from before a
    // restart) is not over either — only a reading that does not meet the condition ends it.
    if (now - st.since < rule.forMs) return { state: 'unknown' };
    const detail =
      rule.kind === 'battery low'
        ? `battery at ${st.value} % (below ${c.limit} %)`
        : `${c.column} is ${st.value}, since ${localTime(st.since)}`;
    return { state: 'holds', finding: { sensor, kind: rule.kind, since: st.since, detail } };
  }
}
