#!/usr/bin/env node
// Tiny launcher: everything lives in dist/ (built by `npm run build`).
import { main } from '../dist/src/cli.js';

main(process.argv).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  (err) => {
    console.error(err && err.stack ? err.stack : String(err));
    process.exitCode = 1;
  },
);
