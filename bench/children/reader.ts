// Reads beside writes: runs the named read probes (bench/lib/read-probes.ts) in turn against the
// listener's live database from 'go' until 'stop', a pause between reads, and reports each
// probe's latencies. Its own process, like a user's `status` or an HTTP server would be.
import { probeByName } from '../lib/read-probes.js';

interface Job {
  dbFile: string;
  probes: string[];
  pauseMs: number;
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '{}') as Job;
  const probes = job.probes.map(probeByName);
  const ms: Record<string, number[]> = Object.fromEntries(probes.map((p) => [p.name, []]));
  const run = { state: 'waiting' as 'waiting' | 'running' | 'stopping' };
  let started!: () => void;
  const go = new Promise<void>((r) => (started = r));
  process.on('message', (m: { type?: string }) => {
    if (m.type === 'go') {
      run.state = 'running';
      started();
    } else if (m.type === 'stop') {
      run.state = 'stopping';
      started();
    }
  });
  process.send?.({ type: 'ready' });
  await go;
  // Bounded: the parent stops us when the stream is stored (its own deadline bounds that).
  while (run.state === 'running') {
    for (const p of probes) {
      const t0 = performance.now();
      await p.run(job.dbFile);
      ms[p.name]!.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, job.pauseMs));
      if (run.state !== 'running') break;
    }
  }
  await new Promise<void>((resolve) => process.send!({ type: 'done', ms }, () => resolve()));
  process.disconnect();
}

main().catch((err: unknown) => {
  process.send?.({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  process.exitCode = 1;
  process.disconnect?.();
});
