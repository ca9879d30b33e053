// What the alert mails say: subjects, bodies and the RFC 5322 Date header. Pure functions, so
// the wording is tested without a mail server.

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number): string => String(n).padStart(2, '0');

/** "+0100": the machine's offset *on that date*, so daylight saving time is right (the original's was not). */
function offset(d: Date): string {
  const minutes = -d.getTimezoneOffset();
  const abs = Math.abs(minutes);
  return `${minutes >= 0 ? '+' : '-'}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
}

/** RFC 5322 date in the machine's zone, e.g. "Mon, 23 Nov 2026 12:47:52 +0100". */
export function rfc5322Date(d: Date): string {
  return `${DAYS[d.getDay()]}, ${pad(d.getDate())} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${offset(d)}`;
}

/** "2026-11-23 12:47:52 +0100" — local time for people, with the offset so it is unambiguous. */
export function localTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${offset(d)}`;
}

/** Minutes as people write them: 20, 1.5, 0.25. */
export function minutes(ms: number): string {
  const m = ms / 60_000;
  if (m < 1) return String(Number(m.toPrecision(2))); // short test periods stay readable: 0.005
  return String(Number(m.toFixed(m >= 10 ? 0 : 1)));
}

export interface AlertContext {
  host: string;
  broker: string;
  version: string;
  pid: number;
  startedAt: number;
  periodMs: number;
  silenceMs: number;
  lastNoticeFile: string;
  /** Totals since the listener started. */
  messages: number;
  readings: number;
  rejected: number;
  lastSensor: string;
}

export interface NoMessagesFacts {
  at: number;
  restartNumber: number;
  /** Restarts in this outage (1 for the first). */
  outageRestarts: number;
  silentForMs: number;
  lastMessageAt?: number;
  lastReadingAt?: number;
  rejectedSinceLastReading: number;
  restartError?: string;
}

export interface RecoveredFacts {
  at: number;
  outageRestarts: number;
  silentForMs: number;
  lastMessageBeforeAt?: number;
  firstMessageDecoded: boolean;
}

export interface AlertMessage {
  subject: string;
  text: string;
}

export const PREFIX = '[mqtt-iot-listener]';

function facts(ctx: AlertContext, rows: Array<[string, string]>): string {
  const all: Array<[string, string]> = [
    ...rows,
    ['Host', ctx.host],
    ['Broker', ctx.broker],
    ['Watchdog period', `${minutes(ctx.periodMs)} min (-t)`],
    ['Last sensor seen', ctx.lastSensor || 'none since start'],
    ['Since start', `${ctx.messages} message(s): ${ctx.readings} reading(s) stored, ${ctx.rejected} rejected (not decodable); started ${localTime(ctx.startedAt)}`],
    ['Listener', `${ctx.version}, pid ${ctx.pid}`],
  ];
  const width = Math.max(...all.map(([k]) => k.length)) + 2;
  return all.map(([k, v]) => `${`${k}:`.padEnd(width)}${v}`).join('\n');
}

export function noMessagesAlert(ctx: AlertContext, f: NoMessagesFacts): AlertMessage {
  const silent = minutes(f.silentForMs);
  const restarted = f.restartError === undefined;
  const lines = [
    `No MQTT message has been received for ${silent} min (watchdog period: ${minutes(ctx.periodMs)} min).`,
    restarted
      ? `The listener restarted its MQTT connection at ${localTime(f.at)} (restart #${f.restartNumber} since start${f.outageRestarts > 1 ? `, ${f.outageRestarts} in this outage` : ''}).`
      : `The listener tried to restart its MQTT connection at ${localTime(f.at)} and failed: ${f.restartError}. It tries again every period.`,
    '',
  ];
  if (f.rejectedSinceLastReading > 0) {
    lines.push(
      `Note: the last ${f.rejectedSinceLastReading} message(s) before the silence could not be decoded (rejected, kept in the rejected_messages table); check the sensors' payload format.`,
      '',
    );
  }
  lines.push(
    facts(ctx, [
      ['Last message', f.lastMessageAt !== undefined ? localTime(f.lastMessageAt) : 'none since start'],
      ['Last reading', f.lastReadingAt !== undefined ? localTime(f.lastReadingAt) : 'none since start'],
    ]),
    '',
    `You get a mail like this at most once every ${minutes(ctx.silenceMs)} min (-s); the restarts in between are logged. A mail follows when messages arrive again.`,
  );
  return {
    subject: `${PREFIX} ${ctx.host}: no messages for ${silent} min — listener ${restarted ? 'restarted' : 'restart FAILED'}`,
    text: `${lines.join('\n')}\n`,
  };
}

export function recoveredAlert(ctx: AlertContext, f: RecoveredFacts): AlertMessage {
  const silent = minutes(f.silentForMs);
  const lines = [
    `MQTT messages are arriving again since ${localTime(f.at)}, after ${silent} min without any and ${f.outageRestarts} restart(s) of the MQTT connection.`,
    f.firstMessageDecoded
      ? 'The first message after the silence was a reading.'
      : 'Warning: the first message after the silence could NOT be decoded (rejected, kept in the rejected_messages table): the broker is alive but the sensors may be sending something we cannot read.',
    '',
    facts(ctx, [['Last message before', f.lastMessageBeforeAt !== undefined ? localTime(f.lastMessageBeforeAt) : 'none since start']]),
  ];
  return {
    subject: `${PREFIX} ${ctx.host}: messages arriving again after ${silent} min — recovered`,
    text: `${lines.join('\n')}\n`,
  };
}

export function storageAlert(ctx: AlertContext, at: number, error: string, pending: number): AlertMessage {
  const lines = [
    `Since ${localTime(at)} the listener cannot commit readings to its database: ${error}`,
    `${pending} message(s) are waiting. They are NOT acknowledged, so a broker with a persistent session keeps them; storing resumes by itself once the disk has room or the lock is released.`,
    '',
    facts(ctx, []),
  ];
  return { subject: `${PREFIX} ${ctx.host}: cannot write the database — readings waiting`, text: `${lines.join('\n')}\n` };
}

export function testAlert(ctx: { host: string; version: string; server: string }, at: number): AlertMessage {
  return {
    subject: `${PREFIX} ${ctx.host}: test alert`,
    text: `This is a test mail from mqtt-iot-listener (alert-test) on ${ctx.host}, sent ${localTime(at)} through ${ctx.server}.\nIf you read this, alerts will reach you.\n\nListener: ${ctx.version}\n`,
  };
}
