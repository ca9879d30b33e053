// The per-sensor alert flags (--sensor-silence, --battery-low, --alert-rules, --alert-webhook,
// --alert-cycle): added to the command line here and resolved into `config.sensorAlerts`, so
// cli.ts and config.ts only call in. No flag given: no sensor alerts at all (nothing runs).
import { dirname, join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { ConfigError } from '../config.js';
import { parseDecimal, parseDuration } from '../numbers.js';
import { readRulesFile, type AlertRule } from './rules.js';

/** The flags as commander typed them. */
export interface SensorAlertFlags {
  sensorSilenceMinutes?: number;
  batteryLowPercent?: number;
  rulesFile?: string;
  webhookUrl?: string;
  cycleMs?: number;
}

export interface SensorAlertConfig {
  /** A sensor that reported before and then nothing for this long is "silent". */
  silenceMs?: number;
  /** A reading with battPercent under this is "battery low". */
  batteryLowPercent?: number;
  rulesFile?: string;
  /** The rule file's rules as read at start (re-read on SIGHUP). */
  rules: AlertRule[];
  webhookUrl?: string;
  /** How often the checks run. */
  cycleMs: number;
  /** Problems, mutes and undelivered digests (next to the last-notice file). */
  stateFile: string;
}

export const DEFAULT_ALERT_CYCLE_MS = 60_000;

/** The state file sits next to the last-notice file (-n): both are "what was mailed when". */
export function alertStateFileFor(lastNoticeFile: string): string {
  return join(dirname(lastNoticeFile), 'ECCMQTTIoT_Sensor_Alerts.json');
}

function positiveNumber(flag: string, what: string, max = Infinity) {
  return (value: string): number => {
    const n = parseDecimal(value);
    if (n === undefined || !(n > 0) || n > max) throw new InvalidArgumentError(`${flag} must be ${what}, got ${JSON.stringify(value)}`);
    return n;
  };
}

export function addSensorAlertOptions(cmd: Command): Command {
  return cmd
    .option('--sensor-silence <minutes>', 'alert when a sensor that has reported before sends nothing for this long', positiveNumber('--sensor-silence', 'a number of minutes greater than 0'))
    .option('--battery-low <percent>', 'alert when a reading reports a battery below this percentage', positiveNumber('--battery-low', 'a percentage between 0 and 100', 100))
    .option('--alert-rules <file>', 'JSON alert rules, e.g. [{"sensor": "Basement", "when": "temperatureF < 40", "for": "10m"}]; re-read on SIGHUP')
    .option('--alert-webhook <url>', 'also POST every alert digest as JSON to this http(s) URL (ntfy, chat hooks, home automation)')
    .option('--alert-cycle <duration>', 'how often the sensor alerts are checked, e.g. 1m, 30s (default: 1m)', (v: string) => {
      const ms = parseDuration(v, 'm');
      if (ms === undefined || ms < 1000) throw new InvalidArgumentError(`--alert-cycle must be a duration of 1s or more like 1m or 30s, got ${JSON.stringify(v)}`);
      return ms;
    });
}

/** Picks this module's flags out of commander's options. */
export function sensorAlertFlags(o: Record<string, unknown>): SensorAlertFlags {
  const f: SensorAlertFlags = {};
  if (typeof o['sensorSilence'] === 'number') f.sensorSilenceMinutes = o['sensorSilence'];
  if (typeof o['batteryLow'] === 'number') f.batteryLowPercent = o['batteryLow'];
  if (typeof o['alertRules'] === 'string') f.rulesFile = o['alertRules'];
  if (typeof o['alertWebhook'] === 'string') f.webhookUrl = o['alertWebhook'];
  if (typeof o['alertCycle'] === 'number') f.cycleMs = o['alertCycle'];
  return f;
}

/** Undefined when no sensor alert is asked for; ConfigError for a bad rule file or URL. */
export function resolveSensorAlerts(flags: SensorAlertFlags | undefined, lastNoticeFile: string): SensorAlertConfig | undefined {
  if (!flags) return undefined;
  const any = flags.sensorSilenceMinutes !== undefined || flags.batteryLowPercent !== undefined || flags.rulesFile !== undefined;
  if (!any) {
    if (flags.webhookUrl !== undefined) throw new ConfigError('--alert-webhook needs something to report: add --sensor-silence, --battery-low or --alert-rules');
    return undefined;
  }
  const c: SensorAlertConfig = { rules: [], cycleMs: flags.cycleMs ?? DEFAULT_ALERT_CYCLE_MS, stateFile: alertStateFileFor(lastNoticeFile) };
  if (flags.sensorSilenceMinutes !== undefined) c.silenceMs = flags.sensorSilenceMinutes * 60_000;
  if (flags.batteryLowPercent !== undefined) c.batteryLowPercent = flags.batteryLowPercent;
  if (flags.rulesFile !== undefined) {
    c.rulesFile = flags.rulesFile;
    c.rules = readRulesFile(flags.rulesFile);
  }
  if (flags.webhookUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(flags.webhookUrl);
    } catch {
      throw new ConfigError('--alert-webhook is not a URL: give one like https://ntfy.example.org/boiler-room');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`--alert-webhook must be an http:// or https:// URL, not ${url.protocol}`);
    c.webhookUrl = flags.webhookUrl;
  }
  return c;
}

/**
 * A webhook URL as logs and check-config may show it: chat hooks carry their secret in the path
 * or query, so only the origin is shown.
 */
export function webhookForLog(url: string): string {
  try {
    const u = new URL(url);
    return u.pathname === '/' && u.search === '' && u.username === '' ? u.origin : `${u.origin}/…`;
  } catch {
    return '(invalid URL)';
  }
}

/** For check-config: the webhook masked, the rules as their kinds. */
export function describeSensorAlerts(c: SensorAlertConfig | undefined): Record<string, unknown> | null {
  if (!c) return null;
  const { rules, webhookUrl, ...rest } = c;
  return {
    ...rest,
    rules: rules.map((r) => `${r.sensor}: ${r.kind}`),
    ...(webhookUrl !== undefined ? { webhookUrl: webhookForLog(webhookUrl) } : {}),
  };
}
