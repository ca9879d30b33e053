// Small file-system and error helpers shared by the log rotator and the database archiver.
import { lstatSync } from 'node:fs';

/** True when the path exists (any kind, symlinks not followed). */
export function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** True when the path is a regular file (symlinks not followed). */
export function isFile(path: string): boolean {
  try {
    return lstatSync(path).isFile();
  } catch {
    return false;
  }
}

/** The message of an error, or the thrown value as text. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
