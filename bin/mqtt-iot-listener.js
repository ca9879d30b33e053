#!/usr/bin/env node
// Tiny launcher: everything lives in dist/ (built by `npm run build`). capMemory() first: it
// keeps RSS small without node flags (src/memory-cap.ts).
import { capMemory } from '../dist/src/memory-cap.js';
import { main } from '../dist/src/cli.js';

capMemory();
main(process.argv).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  (err) => {
    console.error(err && err.stack ? err.stack : String(err));
    process.exitCode = 1;
  },
);
