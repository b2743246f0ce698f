/**
 * Data errors: which Postgres failures are about the row (retrying cannot help, so the row is quarantined)
 * and which are about the connection or server (thrown, so Temporal retries until Postgres is back).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema';
import { cleanString, UnwritableValueError } from './postgres-rows';
import type { QuarantinedRow } from './types';

/**
 * SQLSTATE classes that blame the data: 22 data exception (bad encoding, out-of-range date or number),
 * 23 integrity constraint violation, 54 program limit exceeded (row or index entry too large).
 */
const DATA_ERROR_CLASSES = new Set(['22', '23', '54']);

export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

export function isDataError(err: unknown): boolean {
  if (err instanceof UnwritableValueError) return true;
  const code = sqlState(err);
  return code !== undefined && DATA_ERROR_CLASSES.has(code.slice(0, 2));
}

export const REASON_MAX = 500;

/** `<SQLSTATE> <message>`, one line, cut; Postgres messages quote the offending value, never a credential. */
export function quarantineReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = err instanceof UnwritableValueError ? 'invalid value:' : (sqlState(err) ?? 'error');
  const line = cleanString(`${code} ${message}`).replace(/\s+/g, ' ').trim();
  return line.length > REASON_MAX ? `${line.slice(0, REASON_MAX - 1).replace(/[\uD800-\uDBFF]$/, '')}…` : line;
}

/** JSON text of a refused record: NUL, other controls and lone surrogates come out escaped, never raw. */
export function quarantineText(record: unknown): string {
  return JSON.stringify(record, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)) ?? 'null';
}

/** Record refused rows; one row per (table, key), so a retried batch updates rather than duplicates. */
export async function recordQuarantine(db: Kysely<Database>, rows: Array<QuarantinedRow & { record: unknown }>): Promise<void> {
  for (const r of rows) {
    await db
      .insertInto('quarantine')
      .values({ table_name: r.table, row_key: cleanString(r.key), reason: r.reason, row: quarantineText(r.record) })
      .onConflict((oc) =>
        oc.columns(['table_name', 'row_key']).doUpdateSet((eb) => ({ reason: eb.ref('excluded.reason'), row: eb.ref('excluded.row') })),
      )
      .execute();
  }
}
