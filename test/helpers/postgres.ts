// A private PostgreSQL per test file (bench/lib/postgres.ts) and plain queries against it.
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { startAedes, type TestBroker } from './brokers.js';
import { PostgresServer } from '../../bench/lib/postgres.js';

export { PostgresServer };

export async function pgQuery<T extends pg.QueryResultRow = Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** Rows, distinct sensor names (each reading of the publisher fixture has its own) and the difference. */
export async function pgCounts(url: string): Promise<{ stored: number; distinct: number; duplicates: number }> {
  try {
    const [r] = await pgQuery<{ stored: string; distinct: string }>(url, 'SELECT COUNT(*) AS stored, COUNT(DISTINCT "sensorName") AS distinct FROM "ECCTempHum"');
    const stored = Number(r!.stored);
    const distinct = Number(r!.distinct);
    return { stored, distinct, duplicates: stored - distinct };
  } catch {
    return { stored: 0, distinct: 0, duplicates: 0 };
  }
}

/**
 * A private PostgreSQL and an aedes broker shared by one test file: started before its tests,
 * stopped after them, after the file's own cleanups (listeners first, then broker and server).
 */
export function postgresAndAedes(cleanups: Array<() => Promise<unknown> | unknown>): { readonly server: PostgresServer; readonly broker: TestBroker } {
  let server: PostgresServer | undefined;
  let broker: TestBroker | undefined;
  beforeAll(async () => {
    server = new PostgresServer({ fsync: false });
    await server.start();
    broker = await startAedes();
  }, 120_000);
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
    await broker?.stop();
    await server?.destroy();
  });
  return {
    get server() {
      if (!server) throw new Error('PostgreSQL is not started yet');
      return server;
    },
    get broker() {
      if (!broker) throw new Error('the broker is not started yet');
      return broker;
    },
  };
}
