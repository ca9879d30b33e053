// The launcher's memory cap (src/memory-cap.ts) works without node flags: in a process started
// plainly, V8's young generation stops growing at the size chosen, where it would otherwise grow
// to 32 MB. (Peak RSS of the real listener over 10^6 readings is measured in `npm run bench`.)
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MODULE = fileURLToPath(new URL('../dist/src/memory-cap.js', import.meta.url));

/** Young-generation sizes (MB) seen while a plain `node` churns through short-lived objects. */
function youngSizes(cap: boolean): number[] {
  const script = `
    const m = await import(${JSON.stringify(MODULE)});
    if (${cap}) m.capMemory();
    const seen = new Set();
    let keep = [];
    for (let round = 0; round < 3000; round++) {
      for (let i = 0; i < 2000; i++) {
        const o = { a: i, b: 'x' + i, c: [i, i] };
        if (i % 20 === 0) keep.push(o);
        if (keep.length > 40000) keep = [];
      }
      seen.add(m.youngGenerationMB());
      await new Promise((r) => setImmediate(r));
    }
    console.log(JSON.stringify([...seen]));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as number[];
}

describe('capMemory', () => {
  it('keeps the young generation at 2 × 4 MB in a process started without node flags', async () => {
    const { YOUNG_SEMI_SPACE_MB } = await import('../src/memory-cap.js');
    const capped = youngSizes(true);
    const plain = youngSizes(false);
    expect(Math.max(...capped)).toBeLessThanOrEqual(2 * YOUNG_SEMI_SPACE_MB);
    expect(Math.max(...plain)).toBeGreaterThan(2 * YOUNG_SEMI_SPACE_MB);
  }, 240_000);
});
