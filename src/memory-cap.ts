// Keeps the listener's memory small however it is started (`node bin/…` from the README, a
// systemd unit, cron, a Windows task). V8 sizes its heap from the machine's RAM, and the flags that
// cap it (--max-old-space-size, --max-semi-space-size) only work on node's command line: set from
// inside the process they are ignored, and re-executing node to add them costs a second process
// (~40 MB RSS). Two of V8's garbage-collector settings are read at every collection, though, so the
// launcher sets them first thing: the young generation stays at its initial size instead of
// growing to 32 MB, and the old generation grows by 50 % of what survived a full collection
// instead of by V8's adaptive factor of up to 4× (with a lazy first limit of hundreds of MB).
// Measured in `npm run bench` (section `million`): see README, Performance.
import { setFlagsFromString } from 'node:v8';

export const MEMORY_CAP_FLAGS: readonly string[] = ['--semi-space-growth-factor=1', '--heap-growing-percent=50'];

/** Applies MEMORY_CAP_FLAGS to this process's V8 (the launcher calls it before anything else runs). */
export function capMemory(): void {
  for (const flag of MEMORY_CAP_FLAGS) setFlagsFromString(flag);
}
