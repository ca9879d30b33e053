// --log-level debug: one line per message once its fate is committed — topic, size, sensor and
// stored / rejected (with the reason) / duplicate — so one sensor can be followed in the log
// (`grep 'sensor=TH01 '`). Built from the writer's commit report, so it costs nothing per message
// unless debug is on (app.ts creates it only then), and a line never claims "stored" for a
// reading that was not committed.
import type { BatchOutcome, IncomingMessage } from '../store/reading-store.js';
import type { Logger } from './types.js';

const MAX_TOPIC = 200;

export function messageLine(m: IncomingMessage, duplicate: boolean): string {
  const topic = m.topic.length > MAX_TOPIC ? `${m.topic.slice(0, MAX_TOPIC)}…` : m.topic;
  const r = m.result;
  let sensor = '-';
  let fate: string;
  switch (r.kind) {
    case 'reading':
      sensor = r.reading.sensorName;
      fate = 'stored';
      break;
    case 'readings':
      sensor = r.readings.map((x) => x.sensorName).join(',');
      fate = `stored (${r.readings.length} readings)`;
      break;
    case 'part':
      sensor = r.sensorName;
      fate = 'stored (a part of one reading, not merged)';
      break;
    case 'merged':
      sensor = r.sensorName;
      fate = 'stored (merged into one reading with the device\'s other values)';
      break;
    case 'ignored':
      fate = `ignored: ${r.reason}`;
      break;
    case 'rejection':
      fate = `rejected: ${r.reason}`;
      break;
  }
  if (duplicate) fate = 'duplicate (already stored; acknowledged only)';
  return `message topic=${topic} bytes=${m.payload.length} sensor=${sensor} ${fate}`;
}

export class MessageDebugLog {
  constructor(private readonly log: Logger) {}

  noteBatch(outcome: BatchOutcome, items: readonly IncomingMessage[]): void {
    const duplicates = outcome.duplicateItems ? new Set(outcome.duplicateItems) : undefined;
    for (const m of items) this.log.debug(messageLine(m, duplicates?.has(m) ?? false));
  }
}
