// The distinct sensor names of a readings database, for `status` and `export`: found by hopping
// along the (sensorName, recordWrittenUTC) index — one lookup per sensor, not a scan of the table,
// so a database that grew for years answers at once.
import type BetterSqlite3 from 'better-sqlite3';
import { READINGS_TABLE } from './schema.js';

export function sensorNames(db: BetterSqlite3.Database): string[] {
  return db
    .prepare(
      `WITH RECURSIVE s(name) AS (
         SELECT MIN(sensorName) FROM ${READINGS_TABLE}
         UNION ALL
         SELECT (SELECT MIN(sensorName) FROM ${READINGS_TABLE} WHERE sensorName > s.name) FROM s WHERE s.name IS NOT NULL)
       SELECT name FROM s WHERE name IS NOT NULL`,
    )
    .pluck()
    .all() as string[];
}
