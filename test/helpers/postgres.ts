// A private PostgreSQL per test file (bench/lib/postgres.ts) and plain queries against it.
import pg from 'pg';
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
