// Progress of long work (`import`): a bar (cli-progress) when stderr is a terminal, otherwise a
// plain line at each tenth of the way, so a scheduled task's log or a CI job shows it without
// control characters. Both go to stderr: stdout carries only the result, for scripts.
import cliProgress from 'cli-progress';
import { writeIfOpen } from './closed-pipe.js';

export interface Progress {
  update(done: number): void;
  stop(): void;
}

/**
 * `plainFrom`: below this total, plain lines would only repeat the final summary, so there are
 * none (the bar on a terminal is shown anyway).
 */
export function startProgress(label: string, total: number, unit: string, plainFrom: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | {eta_formatted} left`, stream, hideCursor: true, etaBuffer: 50 },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    return { update: (done) => bar.update(Math.min(done, total)), stop: () => bar.stop() };
  }
  let nextTenth = 1;
  return {
    update: (done) => {
      if (total < plainFrom) return;
      const tenth = Math.floor((done / total) * 10);
      if (tenth < nextTenth) return;
      nextTenth = tenth + 1;
      writeIfOpen(stream, `${label}: ${Math.min(100, tenth * 10)}% (${done} of ${total} ${unit})\n`);
    },
    stop: () => undefined,
  };
}
