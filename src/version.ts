// Name, version and release date, read once from package.json (printed by -v and in alerts).
import { existsSync, readFileSync } from 'node:fs';

// src/version.ts (tests) and dist/src/version.js (built) sit at different depths.
const pkgUrl = [new URL('../package.json', import.meta.url), new URL('../../package.json', import.meta.url)].find((u) =>
  existsSync(u),
)!;
const pkg = JSON.parse(readFileSync(pkgUrl, 'utf8')) as {
  name: string;
  version: string;
  releaseDate?: string;
};

export const NAME = pkg.name;
export const VERSION = pkg.version;
export const RELEASE_DATE = pkg.releaseDate ?? 'unreleased';
export const VERSION_LINE = `${NAME} ${VERSION} (${RELEASE_DATE})`;
