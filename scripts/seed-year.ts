/**
 * `npm run seed:year -- --database-url postgres://postgres@127.0.0.1:5432/im_year [--retailers 100]
 *   [--runs-per-day 96] [--days 365] [--force]`
 *
 * Creates the database if it does not exist, migrates it, and fills it with a year of realistic monitoring
 * data for benchmarking the dashboard SQL (scripts/bench-panels.ts):
 * - `ingestion_runs`: retailers × runs-per-day × days rows (≈ 3.5 M by default), evenly spaced per retailer and
 *   ending just before now, inserted in time order as a live monitor would. About 3 % fail (with an error and
 *   no counts); SKU and promo counts follow a weekly cycle around a per-retailer base; durations 30 s – 6 min.
 * - `retailer_status`: one row per retailer, derived from its runs (latest run, latest success, failure
 *   streak); a retailer whose latest runs failed is unhealthy with an open incident, one is silenced.
 * - `alert_events`: about one incident per retailer per 12 days, each a fire + resolve pair with a
 *   delivery outcome per channel, plus the open incidents' fire events.
 * Every table is filled by one `INSERT … SELECT FROM generate_series` (the run table's secondary indexes are
 * dropped for the load and rebuilt after it from their own definitions, which is several times faster
 * than maintaining them row by row), then VACUUM ANALYZEd.
 *
 * Refuses a database that already has runs unless --force, which empties the three tables first.
 */
import { performance } from 'node:perf_hooks';
import { Command, InvalidArgumentError } from 'commander';
import { Client } from 'pg';
import { createDb, migrateToLatest } from '../src/db/database';
import { redactError, redactUrl } from '../src/shared/redact';

const wholeIn = (min: number, max: number) => (v: string) => {
  const n = /^\d+$/.test(v) ? Number(v) : Number.NaN;
  if (!(n >= min && n <= max)) throw new InvalidArgumentError(`expected a whole number ${min}–${max}`);
  return n;
};

interface SeedOptions {
  databaseUrl: string;
  retailers: number;
  runsPerDay: number;
  days: number;
  force: boolean;
}

const ERRORS = [
  'HTTP 503 from retailer site',
  'timeout after 300 s waiting for product listing',
  'parse error: unexpected token < in JSON at position 0',
  'HTTP 429 Too Many Requests',
  'ECONNRESET while fetching promotions',
];

/** CREATE DATABASE when the URL's database does not exist (connecting to the server's `postgres` database). */
async function ensureDatabase(url: string): Promise<void> {
  const u = new URL(url);
  const name = decodeURIComponent(u.pathname.slice(1));
  if (!name) throw new Error('--database-url must name a database');
  u.pathname = '/postgres';
  const c = new Client({ connectionString: u.toString() });
  await c.connect();
  try {
    const { rowCount } = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await c.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } finally {
    await c.end();
  }
}

async function timed(label: string, fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  const s = (performance.now() - t0) / 1000;
  console.log(`${label.padEnd(44)} ${s.toFixed(1)} s`);
  return s;
}

export async function seedYear(o: SeedOptions): Promise<void> {
  await ensureDatabase(o.databaseUrl);
  const db = createDb(o.databaseUrl, 1);
  try {
    await migrateToLatest(db);
  } finally {
    await db.destroy();
  }
  const c = new Client({ connectionString: o.databaseUrl });
  await c.connect();
  try {
    const existing = (await c.query('SELECT EXISTS (SELECT 1 FROM ingestion_runs) AS any')).rows[0].any as boolean;
    if (existing && !o.force) throw new Error('the database already has ingestion runs; pass --force to empty it and seed again');
    if (existing) await c.query('TRUNCATE ingestion_runs, retailer_status, alert_events RESTART IDENTITY');

    const slots = o.days * o.runsPerDay;
    const stepS = 86_400 / o.runsPerDay;
    // Slot i of retailer r finishes at t0 + i·step + r·7 s (retailers staggered), so the last slot ends just
    // before now and the default 24 h range holds a full day of runs.
    const t0 = `(date_trunc('minute', now()) - make_interval(secs => ${slots * stepS + 7 * (o.retailers + 1)}))`;
    const total = performance.now();

    await c.query('SET maintenance_work_mem = \'256MB\'');
    const { rows: idx } = await c.query<{ name: string; def: string }>(
      `SELECT i.indexname AS name, i.indexdef AS def FROM pg_indexes i
       WHERE i.schemaname = current_schema() AND i.tablename = 'ingestion_runs'
         AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conname = i.indexname)`,
    );
    for (const i of idx) await c.query(`DROP INDEX "${i.name}"`);

    await timed(`ingestion_runs (${(slots * o.retailers).toLocaleString('en')} rows)`, () =>
      c.query(
        `INSERT INTO ingestion_runs (run_id, retailer, schedule, status, started_at, finished_at, duration_ms, sku_count,
           promo_count, last_scrape_at, error, workflow_id, workflow_run_id, out_of_order, sku_drop, received_at)
         SELECT 'run-' || r.slug || '-' || s.i, r.slug, 'ingest-' || r.slug,
           CASE WHEN x.fail THEN 'failure' ELSE 'success' END,
           x.fin - make_interval(secs => x.dur / 1000.0), x.fin, x.dur,
           CASE WHEN NOT x.fail THEN round(r.base * x.week * (0.97 + random() * 0.06))::int END,
           CASE WHEN NOT x.fail THEN round(r.base * 0.04 * x.week * (0.8 + random() * 0.4))::int END,
           CASE WHEN NOT x.fail THEN x.fin - interval '10 seconds' END,
           CASE WHEN x.fail THEN ($1::text[])[1 + (s.i + r.n) % ${ERRORS.length}] END,
           'ingest-' || r.slug, md5(r.slug || s.i), false, false,
           x.fin + interval '1 second'
         FROM generate_series(0, ${slots - 1}) AS s(i)
         CROSS JOIN LATERAL (
           SELECT n, 'retailer-' || lpad(n::text, 3, '0') AS slug, 800 + (n * 137) % 4200 AS base
           FROM generate_series(1, ${o.retailers}) AS n
         ) r
         CROSS JOIN LATERAL (
           SELECT ${t0} + make_interval(secs => s.i * ${stepS} + r.n * 7) AS fin,
             random() < 0.03 AS fail,
             (30000 + random() * 330000)::bigint AS dur,
             1 + 0.08 * sin(2 * pi() * ((s.i / ${o.runsPerDay}) % 7) / 7.0) AS week
         ) x`,
        [ERRORS],
      ),
    );
    await timed(`ingestion_runs indexes (${idx.length}) rebuilt`, async () => {
      for (const i of idx) await c.query(i.def);
    });

    await timed('retailer_status', () =>
      c.query(
        `INSERT INTO retailer_status (retailer, health, first_seen_at, last_run_id, last_run_status, last_run_at,
           last_success_at, consecutive_failures, last_sku_count, last_promo_count, trailing_avg_sku, stale_deadline,
           open_incidents, open_rules, silenced_until, silence_reason, updated_at)
         SELECT r.slug,
           CASE WHEN r.n = 7 THEN 'silenced' WHEN streak.k >= 2 THEN 'unhealthy' ELSE 'healthy' END,
           ${t0}, l.run_id, l.status, l.finished_at, ok.finished_at, streak.k, ok.sku_count, ok.promo_count,
           ok.sku_count, ok.finished_at + interval '2 hours',
           CASE WHEN r.n = 7 OR streak.k >= 2 THEN 1 ELSE 0 END,
           CASE WHEN r.n = 7 OR streak.k >= 2 THEN 'consecutive_failures' ELSE '' END,
           CASE WHEN r.n = 7 THEN now() + interval '1 day' END,
           CASE WHEN r.n = 7 THEN 'site migration' END,
           l.finished_at
         FROM (SELECT n, 'retailer-' || lpad(n::text, 3, '0') AS slug FROM generate_series(1, ${o.retailers}) n) r
         CROSS JOIN LATERAL (SELECT * FROM ingestion_runs WHERE retailer = r.slug ORDER BY finished_at DESC LIMIT 1) l
         LEFT JOIN LATERAL (SELECT * FROM ingestion_runs WHERE retailer = r.slug AND status = 'success'
                            ORDER BY finished_at DESC LIMIT 1) ok ON true
         CROSS JOIN LATERAL (SELECT count(*)::int AS k FROM ingestion_runs WHERE retailer = r.slug
                             AND finished_at > coalesce(ok.finished_at, '-infinity')) streak`,
      ),
    );

    // ≈ one incident per retailer per 12 days; fire + resolve (30 min – 6 h later), delivery per channel.
    const incidents = Math.max(1, Math.round((o.retailers * o.days) / 12));
    await timed(`alert_events (${incidents.toLocaleString('en')} incidents)`, () =>
      c.query(
        `WITH inc AS (
           SELECT k, 'retailer-' || lpad((1 + (k * 37) % ${o.retailers})::text, 3, '0') AS retailer,
             (ARRAY['consecutive_failures', 'stale', 'sku_drop'])[1 + k % 3] AS rule,
             ${t0} + make_interval(secs => (k::float8 / ${incidents}) * ${slots * stepS - 86_400}) AS opened,
             make_interval(secs => 1800 + random() * 19800) AS lasts,
             k % 10 = 0 AS silenced, k % 17 = 0 AS slack_failed
           FROM generate_series(1, ${incidents}) k
         )
         INSERT INTO alert_events (event_id, incident_id, retailer, rule, kind, occurred_at, opened_at, summary, figures,
           run_id, workflow_id, workflow_run_id, silenced, delivered, delivery, diagnosis)
         SELECT e.kind || '-' || inc.k, 'inc-' || inc.k, inc.retailer, inc.rule, e.kind,
           inc.opened + CASE WHEN e.kind = 'resolve' THEN inc.lasts ELSE interval '0' END, inc.opened,
           inc.retailer || ' ' || inc.rule || CASE WHEN e.kind = 'resolve' THEN ' resolved' ELSE ' fired' END,
           jsonb_build_object('consecutiveFailures', 2 + inc.k % 3),
           NULL, 'ingestion-monitor/' || inc.retailer, md5(inc.k::text),
           inc.silenced, NOT inc.silenced AND NOT inc.slack_failed,
           CASE WHEN inc.silenced THEN '[]'::jsonb
                WHEN inc.slack_failed THEN '[{"channel":"slack","status":"failed","attempts":5,"detail":"HTTP 500 from hooks.slack.com"},{"channel":"email","status":"not_configured"}]'::jsonb
                ELSE '[{"channel":"slack","status":"delivered","attempts":1},{"channel":"email","status":"not_configured"}]'::jsonb END,
           CASE WHEN inc.rule = 'stale' AND e.kind = 'fire' THEN 'schedule ingest-' || inc.retailer || ' is paused' END
         FROM inc CROSS JOIN (VALUES ('fire'), ('resolve')) e(kind)`,
      ),
    );
    await timed('alert_events for open incidents', () =>
      c.query(
        `INSERT INTO alert_events (event_id, incident_id, retailer, rule, kind, occurred_at, opened_at, summary, figures,
           workflow_id, silenced, delivered, delivery)
         SELECT 'fire-open-' || s.retailer, 'inc-open-' || s.retailer, s.retailer, 'consecutive_failures', 'fire',
           s.last_run_at, s.last_run_at, s.retailer || ' consecutive_failures fired', '{}'::jsonb,
           'ingestion-monitor/' || s.retailer, s.health = 'silenced', s.health <> 'silenced',
           CASE WHEN s.health = 'silenced' THEN '[]'::jsonb ELSE '[{"channel":"slack","status":"delivered","attempts":1}]'::jsonb END
         FROM retailer_status s WHERE s.open_incidents > 0`,
      ),
    );
    // VACUUM too: index-only scans need the visibility map a live table's autovacuum keeps.
    await timed('VACUUM ANALYZE', () => c.query('VACUUM ANALYZE ingestion_runs, ingestion_runs_hourly, retailer_status, alert_events'));
    console.log(`${'total'.padEnd(44)} ${((performance.now() - total) / 1000).toFixed(1)} s`);
    const { rows } = await c.query(
      `SELECT t AS table, (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I', t), false, true, '')))[1]::text::bigint AS rows,
         pg_size_pretty(pg_table_size(t)) AS heap, pg_size_pretty(pg_indexes_size(t)) AS indexes
       FROM unnest(ARRAY['ingestion_runs', 'retailer_status', 'alert_events']) AS t ORDER BY t`,
    );
    console.table(rows);
  } finally {
    await c.end();
  }
}

if (require.main === module) {
  const program = new Command('seed-year')
    .description('Fill a database with a year of ingestion runs, statuses and alerts (for npm run bench:panels)')
    .requiredOption('--database-url <url>', 'postgres:// URL; the database is created if it does not exist')
    .option('--retailers <n>', 'retailers', wholeIn(1, 10_000), 100)
    .option('--runs-per-day <n>', 'runs per retailer per day', wholeIn(1, 1440), 96)
    .option('--days <n>', 'days of history, ending now', wholeIn(1, 3650), 365)
    .option('--force', 'empty ingestion_runs, retailer_status and alert_events first if they hold data', false)
    .parse();
  const o = program.opts<SeedOptions>();
  console.log(`seeding ${redactUrl(o.databaseUrl)}: ${o.retailers} retailers × ${o.runsPerDay} runs/day × ${o.days} days`);
  seedYear(o).catch((err) => {
    console.error(redactError(err));
    process.exit(1);
  });
}
