// Keeps the listener's memory small however it is started (`node bin/…` from the README, a
// systemd unit, cron, a Windows task). V8 sizes its heap from the machine's RAM, and the flags that
// cap it (--max-old-space-size, --max-semi-space-size) only work on node's command line: set from
// inside the process they are ignored, and re-executing node to add them costs a second process
// (~40 MB RSS). Two of V8's garbage-collector settings are read at every collection, though, so the
// launcher sets them first thing:
// - the old generation grows by 25 % of what survived a full collection, instead of by V8's
//   adaptive factor of up to 4× (after a lazy first limit of hundreds of MB);
// - the young generation grows as usual (doubling from 1 MB per semi-space) until it reaches
//   YOUNG_SEMI_SPACE_MB, then stops growing instead of going on to 16 MB: smaller is cheaper in
//   RSS but costs CPU (a 1 MB semi-space doubled the listener's GC time, npm run bench --cpu-prof).
// Measured in `npm run bench` (section `million`): see README, Performance.
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

export const OLD_GENERATION_GROWING_PERCENT = 25;
export const YOUNG_SEMI_SPACE_MB = 4;

let applied = false;

/** Applies the settings to this process's V8 (the launcher calls it before the listener starts). */
export function capMemory(): void {
  if (applied) return;
  applied = true;
  setFlagsFromString(`--heap-growing-percent=${OLD_GENERATION_GROWING_PERCENT}`);
  // The new space holds two semi-spaces; V8 grows it after a scavenge, and this observer (run
  // after that scavenge) freezes it once it has reached the size wanted.
  const observer = new PerformanceObserver(() => {
    if (youngGenerationMB() < 2 * YOUNG_SEMI_SPACE_MB) return;
    setFlagsFromString('--semi-space-growth-factor=1');
    observer.disconnect();
  });
  observer.observe({ entryTypes: ['gc'] });
}

/** Size of V8's new space (both semi-spaces), MB. */
export function youngGenerationMB(): number {
  const space = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  return (space?.space_size ?? 0) / 1048576;
}
