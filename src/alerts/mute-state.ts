// When the last "no messages" alert went out, kept in the last-notice file (-n) so muting (-s)
// survives a restart of the listener. Written atomically (temp file + rename): a crash mid-write
// leaves the old file, never half a file. The original stored a Python pickle; a file we cannot
// read is treated as "no alert sent yet" (one warning) and replaced by ours on the next send.
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-file.js';
import type { Logger } from '../logging/types.js';

interface LastNotice {
  /** ISO-8601 UTC time of the last successful "no messages" alert. */
  lastAlertUTC: string;
  subject?: string;
  writtenBy?: string;
}

export class MuteState {
  private lastAlert: number | undefined;

  constructor(
    readonly file: string,
    private readonly log: Logger,
    private readonly writtenBy = 'mqtt-iot-listener',
  ) {}

  /** Time (ms) of the last successful alert, if any. */
  get lastAlertAt(): number | undefined {
    return this.lastAlert;
  }

  async load(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') this.log.warn(`cannot read last-notice file ${this.file} (${code ?? String(err)}): treating it as "no alert sent yet"`);
      this.lastAlert = undefined;
      return;
    }
    const at = parseLastNotice(text);
    if (at === undefined) {
      this.log.warn(
        `last-notice file ${this.file} is not in our format (perhaps the original listener's Python pickle): treating it as "no alert sent yet"; it will be overwritten after the next alert`,
      );
    }
    this.lastAlert = at;
  }

  /** When the mute ends, or undefined when an alert may go out now. */
  mutedUntil(now: number, silenceMs: number): number | undefined {
    if (this.lastAlert === undefined || silenceMs <= 0) return undefined;
    const until = this.lastAlert + silenceMs;
    return now < until ? until : undefined;
  }

  /** Records a successful alert; a write failure is logged, never thrown (the mute then lives in memory). */
  async record(at: number, subject?: string): Promise<void> {
    this.lastAlert = at;
    const body: LastNotice = { lastAlertUTC: new Date(at).toISOString(), writtenBy: this.writtenBy };
    if (subject !== undefined) body.subject = subject;
    try {
      await writeFileAtomic(this.file, `${JSON.stringify(body)}\n`);
    } catch (err) {
      this.log.error(`cannot write last-notice file ${this.file}: ${(err as Error).message}; muting holds only until the listener restarts`);
    }
  }
}

export function parseLastNotice(text: string): number | undefined {
  try {
    const data = JSON.parse(text) as Partial<LastNotice> | null;
    const iso = data?.lastAlertUTC;
    if (typeof iso !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(iso)) return undefined;
    const at = Date.parse(iso);
    return Number.isFinite(at) ? at : undefined;
  } catch {
    return undefined;
  }
}
