// Shared set-up for the reliability scenarios: a temp folder, the listener process, counting.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { findSecret, spawnListener, type ListenerProcess } from '../helpers/processes.js';
import { query, waitFor } from '../helpers/util.js';

export interface Counts {
  published: number;
  stored: number;
  distinct: number;
  duplicates: number;
  rejected: number;
}

export function counts(dbFile: string, published: number): Counts {
  const [r] = query<{ n: number; d: number }>(dbFile, 'SELECT COUNT(*) AS n, COUNT(DISTINCT sensorName) AS d FROM ECCTempHum');
  const [j] = query<{ n: number }>(dbFile, 'SELECT COUNT(*) AS n FROM rejected_messages');
  return { published, stored: r!.n, distinct: r!.d, duplicates: r!.n - r!.d, rejected: j!.n };
}

export function report(scenario: string, c: Counts | Record<string, unknown>): void {
  // One line per scenario: the figures a user rerunning the suite wants to see.
  process.stdout.write(`[reliability] ${scenario}: ${JSON.stringify(c)}\n`);
}

export async function startedListener(dir: string, port: number, args: string[] = []): Promise<ListenerProcess> {
  const l = spawnListener(dir, port, args);
  await waitFor(() => logText(dir).includes('subscribed to') || l.child.exitCode !== null, 20_000, 'listener subscribed');
  if (l.child.exitCode !== null) throw new Error(`listener exited ${l.child.exitCode}: ${l.output()}`);
  return l;
}

export function logText(dir: string): string {
  const f = join(dir, 'ECCMQTTIoT.log');
  return existsSync(f) ? readFileSync(f, 'utf8') : '';
}

export async function stopListener(l: ListenerProcess): Promise<number | null> {
  if (l.child.exitCode !== null) return l.child.exitCode;
  l.kill('SIGTERM');
  return l.exited;
}

/** Scenario 7, checked after every scenario: no password in logs or console output. */
export function expectNoSecrets(dir: string, ...outputs: string[]): void {
  const found = findSecret([logText(dir), ...outputs].join('\n'));
  expect(found, 'a password appeared in a log or in the console output').toBeUndefined();
}
