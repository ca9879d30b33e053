// Alert rules (--alert-rules <file>): `{"sensor": "Basement" | "*", "when": "temperatureF < 40",
// "for": "10m"}` over the stored reading columns. The condition is parsed by a tiny grammar
// (column, one of < <= > >=, a number) — never eval'd — and a mistake is a ConfigError naming the
// rule, so the user fixes it at start (or the SIGHUP re-read keeps the old rules).
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config.js';
import { parseDecimal, parseDuration } from '../numbers.js';

/** The numeric columns of ECCTempHum a rule may test. */
export const RULE_COLUMNS = ['temperatureF', 'relHumidityPercent', 'dewPointF', 'battVoltage', 'battPercent', 'apRSSI'] as const;
export type RuleColumn = (typeof RULE_COLUMNS)[number];
export type Comparison = '<' | '<=' | '>' | '>=';

export interface Condition {
  column: RuleColumn;
  op: Comparison;
  limit: number;
}

export interface AlertRule {
  /** A sensor name, or "*" for every sensor. */
  sensor: string;
  condition: Condition;
  /** How long the condition must hold before the rule fires (0: at the first reading). */
  forMs: number;
  /** The problem's kind in mails and the state file, e.g. "temperatureF < 40 for 10m". */
  kind: string;
}

/** The values of one reading a rule can see; NULL/absent for fields a firmware does not send. */
export type ReadingValues = Partial<Record<RuleColumn, number | null>>;

const CONDITION_RE = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|<|>)\s*(\S+)\s*$/;

/** Parses "temperatureF < 40"; returns the reason when it is not a condition we understand. */
export function parseCondition(text: string): Condition | string {
  const m = CONDITION_RE.exec(text);
  if (!m) return `"when" must be "<column> <op> <number>" with <op> one of < <= > >=, e.g. "temperatureF < 40"; got ${JSON.stringify(text)}`;
  const column = m[1]!;
  if (!(RULE_COLUMNS as readonly string[]).includes(column)) {
    return `unknown column ${JSON.stringify(column)}; the columns are ${RULE_COLUMNS.join(', ')}`;
  }
  const limit = parseDecimal(m[3]!);
  if (limit === undefined) return `${JSON.stringify(m[3])} is not a number`;
  return { column: column as RuleColumn, op: m[2] as Comparison, limit };
}

/** True when the reading has the column and the comparison holds; a NULL value never holds. */
export function holds(c: Condition, values: ReadingValues): boolean {
  const v = values[c.column];
  if (typeof v !== 'number' || !Number.isFinite(v)) return false;
  switch (c.op) {
    case '<':
      return v < c.limit;
    case '<=':
      return v <= c.limit;
    case '>':
      return v > c.limit;
    case '>=':
      return v >= c.limit;
  }
}

export function conditionText(c: Condition): string {
  return `${c.column} ${c.op} ${c.limit}`;
}

/** "10m", "90s", "1.5h": durations as the rule file writes them (a bare number is minutes). */
export function durationText(ms: number): string {
  if (ms === 0) return '0';
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}

function ruleKind(c: Condition, forMs: number): string {
  return forMs > 0 ? `${conditionText(c)} for ${durationText(forMs)}` : conditionText(c);
}

/** The built-in battery rule (--battery-low): one code path with the file's rules. */
export function batteryRule(percent: number): AlertRule {
  const condition: Condition = { column: 'battPercent', op: '<', limit: percent };
  return { sensor: '*', condition, forMs: 0, kind: 'battery low' };
}

/** Parses the rule file's text; throws ConfigError with one line naming the bad rule. */
export function parseRules(text: string, file: string): AlertRule[] {
  let data: unknown;
  try {
    data = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new ConfigError(`alert rules file ${file} is not valid JSON: ${(err as Error).message}`);
  }
  const list = Array.isArray(data) ? data : (data as { rules?: unknown } | null)?.rules;
  if (!Array.isArray(list)) throw new ConfigError(`alert rules file ${file}: expected a JSON array of rules like [{"sensor": "*", "when": "temperatureF < 40", "for": "10m"}]`);
  return list.map((entry, i) => parseRule(entry, `alert rules file ${file}: rule ${i + 1} ${JSON.stringify(entry)}`));
}

function parseRule(entry: unknown, where: string): AlertRule {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new ConfigError(`${where}: a rule is an object {"sensor", "when", "for"}`);
  const r = entry as Record<string, unknown>;
  const unknownKey = Object.keys(r).find((k) => !['sensor', 'when', 'for'].includes(k));
  if (unknownKey !== undefined) throw new ConfigError(`${where}: unknown key ${JSON.stringify(unknownKey)} (a rule has "sensor", "when" and "for")`);
  if (typeof r['sensor'] !== 'string' || r['sensor'].trim() === '') throw new ConfigError(`${where}: "sensor" must be a sensor name or "*"`);
  if (typeof r['when'] !== 'string') throw new ConfigError(`${where}: "when" must be a condition like "temperatureF < 40"`);
  const condition = parseCondition(r['when']);
  if (typeof condition === 'string') throw new ConfigError(`${where}: ${condition}`);
  let forMs = 0;
  if (r['for'] !== undefined) {
    const ms = typeof r['for'] === 'string' ? parseDuration(r['for'], 'm') : typeof r['for'] === 'number' ? r['for'] * 60_000 : undefined;
    if (ms === undefined || !(ms >= 0) || !Number.isFinite(ms)) throw new ConfigError(`${where}: "for" must be a duration like "10m", "90s" or "1h"`);
    forMs = ms;
  }
  return { sensor: r['sensor'].trim(), condition, forMs, kind: ruleKind(condition, forMs) };
}

export function readRulesFile(file: string): AlertRule[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(`cannot read alert rules file ${file}: ${code === 'ENOENT' ? 'no such file' : (code ?? String(err))}`);
  }
  return parseRules(text, file);
}
