// What a sensor alert digest says: every new problem and every recovery since the last digest in
// one mail (and one webhook body), newest facts first in the subject so a phone's notification
// preview already says which sensor. Pure functions, tested without a mail server.
import type { DigestLine } from './alert-state.js';
import { localTime, minutes, PREFIX, type AlertMessage } from './alert-text.js';

export interface DigestContext {
  host: string;
  version: string;
  pid: number;
  /** -s: how long a (sensor, kind) stays muted after it was mailed. */
  muteMs: number;
  stateFile: string;
}

/** A mail of 500 lines is still read; one of 50 000 is not. The rest: `alerts`. */
const MAX_LINES_PER_SECTION = 200;

function section(title: string, lines: readonly DigestLine[], width: number): string[] {
  if (lines.length === 0) return [];
  const shown = lines.slice(0, MAX_LINES_PER_SECTION).map((l) => `  ${l.sensor.padEnd(width)}${l.kind}: ${l.text}`);
  if (lines.length > shown.length) shown.push(`  … and ${lines.length - shown.length} more (run: mqtt-iot-listener alerts)`);
  return [`${title} (${lines.length}):`, ...shown, ''];
}

const ofType = (lines: readonly DigestLine[], type: DigestLine['type']): DigestLine[] => lines.filter((l) => l.type === type);

function summary(lines: readonly DigestLine[]): string {
  const problems = ofType(lines, 'problem');
  const reminders = ofType(lines, 'reminder');
  const recoveries = ofType(lines, 'recovery');
  const parts: string[] = [];
  if (problems.length > 0) parts.push(`${problems.length} sensor problem${problems.length === 1 ? '' : 's'}`);
  if (reminders.length > 0) parts.push(`${reminders.length} still unresolved`);
  if (recoveries.length > 0) parts.push(`${recoveries.length} recover${recoveries.length === 1 ? 'y' : 'ies'}`);
  // The subject names the most urgent lines: new problems, else reminders, else recoveries.
  const lead = [problems, reminders, recoveries].find((l) => l.length > 0)!;
  const first = lead.slice(0, 3).map((l) => `${l.sensor} ${l.type === 'recovery' ? 'OK' : l.kind}`);
  return `${parts.join(', ')} — ${first.join(', ')}${lead.length > 3 ? ', …' : ''}`;
}

export function digestMessage(ctx: DigestContext, lines: readonly DigestLine[], now: number): AlertMessage {
  // One sensor column for both sections; a very long name just pushes its own line.
  const width = Math.min(32, Math.max(...lines.map((l) => l.sensor.length)) + 2);
  const body = [
    `Sensor alerts from ${ctx.host} at ${localTime(now)}:`,
    '',
    ...section('NEW PROBLEMS', ofType(lines, 'problem'), width),
    ...section('STILL UNRESOLVED', ofType(lines, 'reminder'), width),
    ...section('RECOVERED', ofType(lines, 'recovery'), width),
    `Each sensor and kind of problem is mailed at most once every ${minutes(ctx.muteMs)} min (-s), again under STILL UNRESOLVED while it lasts; a line under RECOVERED follows when a mailed problem ends.`,
    `Current problems and mutes: run "mqtt-iot-listener alerts" (state file ${ctx.stateFile}).`,
    '',
    `Host:      ${ctx.host}`,
    `Listener:  ${ctx.version}, pid ${ctx.pid}`,
  ];
  return { subject: `${PREFIX} ${ctx.host}: ${summary(lines)}`, text: `${body.join('\n')}\n` };
}

const pick = ({ sensor, kind, atUTC, text }: DigestLine): Omit<DigestLine, 'type'> => ({ sensor, kind, atUTC, text });

/** The webhook's JSON body: the same digest, structured for automation. */
export function digestJson(ctx: DigestContext, lines: readonly DigestLine[], now: number): Record<string, unknown> {
  const message = digestMessage(ctx, lines, now);
  return {
    source: 'mqtt-iot-listener',
    host: ctx.host,
    atUTC: new Date(now).toISOString(),
    title: message.subject,
    text: message.text,
    problems: ofType(lines, 'problem').map(pick),
    reminders: ofType(lines, 'reminder').map(pick),
    recoveries: ofType(lines, 'recovery').map(pick),
  };
}
