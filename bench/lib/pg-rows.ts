// The bench's view of a PostgreSQL database while listeners write to it: how many messages have
// been committed so far, cheaply enough to poll every few milliseconds. A COUNT(*) of the readings
// table grows with the table; instead the delivery ledger is read incrementally: every committed
// batch adds one ledger row (same transaction as its readings) listing its messages' packet ids,
// so the sum of the new rows' list lengths is what was committed since the last poll. Ids come
// from a sequence and the members of a share group commit concurrently, so a batch may commit
// after a later id was seen: ids in the last LOOKBACK are looked at again, but a row already counted
// is skipped by the query itself, so each ledger row's list is parsed once (the watcher must not
// load the server it measures).
import pg from 'pg';
import { wallMs } from './payload.js';

const LOOKBACK = 32;
/** The bench's sequence number from the two stored columns that carry it (see payload.ts). */
const PG_SEQ_SQL = 'CAST(ROUND(("temperatureF" - 50) * 100) AS INTEGER) + CAST(ROUND("relHumidityPercent" * 100) AS INTEGER) * 10000';

export class PgRowWatcher {
  private client: pg.Client | undefined;
  private readonly seen = new Set<number>();
  private maxId = 0;
  private total = 0;

  constructor(readonly url: string) {}

  private async open(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = new pg.Client({ connectionString: this.url, application_name: 'bench watcher' });
    client.on('error', () => undefined); // the server stopping under us: the next query fails
    await client.connect();
    this.client = client;
    return client;
  }

  /** Messages committed so far (QoS 1/2: every message has a packet id, so a ledger entry). */
  async count(): Promise<number> {
    const client = await this.open();
    const from = Math.max(0, this.maxId - LOOKBACK);
    let rows: Array<{ id: string; n: number }>;
    try {
      rows = (
        await client.query<{ id: string; n: number }>(
          `SELECT "batchId" AS id, json_array_length("entries"::json) AS n FROM "delivery_ledger"
             WHERE "batchId" > $1 AND NOT ("batchId" = ANY($2::bigint[]))`,
          [from, [...this.seen].filter((id) => id > from)],
        )
      ).rows;
    } catch (err) {
      if ((err as { code?: string }).code === '42P01') return 0; // no ledger yet: the listener has not created its tables
      throw err;
    }
    for (const r of rows) {
      const id = Number(r.id);
      if (this.seen.has(id)) continue;
      this.seen.add(id);
      this.total += r.n;
      if (id > this.maxId) this.maxId = id;
    }
    if (this.seen.size > 4 * LOOKBACK) for (const id of this.seen) if (id <= this.maxId - LOOKBACK) this.seen.delete(id);
    return this.total;
  }

  /** Polls until `target` messages are committed; the time it saw them, or undefined on timeout. */
  async waitForCount(target: number, timeoutMs: number, pollMs = 10): Promise<number | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if ((await this.count()) >= target) return wallMs();
      await new Promise((r) => setTimeout(r, pollMs));
    }
    return undefined;
  }

  /** After the run: rows stored and distinct bench messages among them (lost = expected - distinct). */
  async check(): Promise<{ rows: number; distinctMessages: number }> {
    const client = await this.open();
    const r = await client.query<{ rows: string; distinctMessages: string }>(`SELECT COUNT(*) AS rows, COUNT(DISTINCT ${PG_SEQ_SQL}) AS "distinctMessages" FROM "ECCTempHum"`);
    return { rows: Number(r.rows[0]!.rows), distinctMessages: Number(r.rows[0]!.distinctMessages) };
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => undefined);
  }
}
