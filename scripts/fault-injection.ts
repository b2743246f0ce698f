/**
 * `npx tsx scripts/fault-injection.ts [--quick] [--only=1,2,3]` — re-verifies, on the per-retailer shape
 * (one retailer monitor per retailer + the fleet workflow delivering alerts), what issue 7 says held under
 * fault injection and must keep holding: 0 reports lost or duplicated, `alert_events` exact, each alert once
 * at each sink, Retry-After honoured, no secret in histories, logs, queries or tables. Not part of `npm test`:
 * it prints a results table (and exits 1 if a report or alert event was lost or a secret leaked).
 *
 * Scenarios (each bounded in count and time; loopback only):
 *  1. Worker SIGKILL ×3 during 600 reports over 20 retailers (the monitor worker runs in a child process,
 *     test/fixtures/monitor-worker-process.ts; a new one is started right after each kill). Kills 2 and 3 are
 *     aimed at the moment an alert POST reaches the stand-in, the window in which a crash can duplicate it.
 *  2. Dev server restart: `temporal server start-dev` with a SQLite file as our own child, SIGKILLed mid-stream
 *     and started again on the same file and port.
 *  3. Postgres outage of 60 s during 900 reports, on a private cluster (initdb into a temp dir, own port, own
 *     socket dir): `pg_ctl stop -m fast`, 60 s, start; times how long after Postgres returned the backlog was
 *     written. The machine's shared Postgres (5432) is never touched: every scenario uses the private cluster.
 *  4. Secrets (checked after each scenario): the Slack URL's path carries a marker; it must appear nowhere in
 *     the decoded histories of every workflow run (retailer monitors and fleet), in query results (and the
 *     Web UI's current details), in the worker's and the dev server's logs, or in any table. The Slack
 *     stand-in echoes the request path in the body of its 429 answers, so the activities' scrubbing is tested.
 *
 * Reports are sent with `reportIngestionRun` (Update-with-Start), per retailer one after the other, paced;
 * a call that fails (no worker answers, server down) is retried with the same report until a verdict comes
 * back; `duplicate` verdicts for such retries are expected and counted. Retailers follow known patterns (some
 * fail twice then succeed, some three times, some once), so the alert events each one must produce are
 * computed in advance. Sinks: a loopback Slack stand-in (answers 429 with Retry-After: 2 to the first attempt of
 * every 7th distinct message) and a loopback webhook stand-in (Idempotency-Key = event id, or the group key).
 *
 * Settings: FI_SERVER_KILL_SIGNAL (SIGKILL | SIGTERM, default SIGKILL), FI_GROUP_WINDOW_MS (default 10000).
 * Children (dev servers, workers, Postgres) and temp dirs are removed in `finally` and on SIGINT/SIGTERM.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chownSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Table from 'cli-table3';
import { sql, type Kysely } from 'kysely';
import { Client as PgClient } from 'pg';
import { Client, Connection } from '@temporalio/client';
import { CommandRejectedError, reportIngestionRun, retailerHandle } from '../src/client';
import { createDb, migrateToLatest } from '../src/db/database';
import type { Database } from '../src/db/schema';
import {
  DEFAULTS,
  fleetAlertsQuery,
  fleetConfigQuery,
  fleetIncidentsQuery,
  retailerAlertsQuery,
  retailerIncidentsQuery,
  retailerQuery,
  type RunVerdict,
} from '../src/shared/messages';
import { InvalidRunReportError, type RunReportInput } from '../src/shared/report';
import { searchAttributeArgs } from '../src/stack/temporal-server';
import { ensureFleet } from '../src/worker';
import { temporalCliPath } from '../test/helpers/temporal';
import { replayCheck } from './replay-check';

const execFileP = promisify(execFile);
const REPO = path.join(__dirname, '..');
const QUICK = process.argv.includes('--quick');
const ONLY = (() => {
  const a = process.argv.find((x) => x.startsWith('--only='));
  return a ? new Set(a.slice('--only='.length).split(',').map((s) => Number(s.trim()))) : new Set([1, 2, 3]);
})();
const GROUP_WINDOW_MS = Number(process.env.FI_GROUP_WINDOW_MS ?? 10_000);
const SERVER_KILL_SIGNAL = (process.env.FI_SERVER_KILL_SIGNAL ?? 'SIGKILL') as NodeJS.Signals;
if (!['SIGKILL', 'SIGTERM'].includes(SERVER_KILL_SIGNAL)) throw new Error('FI_SERVER_KILL_SIGNAL must be SIGKILL or SIGTERM');
if (!Number.isInteger(GROUP_WINDOW_MS) || GROUP_WINDOW_MS < 1000 || GROUP_WINDOW_MS > 60_000) throw new Error('FI_GROUP_WINDOW_MS must be 1000..60000');

const PG_BIN = '/usr/lib/postgresql/15/bin';
const RETAILERS = 20;
/** Per attempt of a report call; a retry follows (same report). */
const ATTEMPT_MS = 15_000;
/** A report that has no verdict after this long is counted as having none. */
const REPORT_GIVE_UP_MS = 5 * 60_000;
/** Longest wait for runs, alert events and sink deliveries after the last verdict. */
const SETTLE_MAX_MS = 5 * 60_000;
/** After everything is in, nothing more may arrive for this long (a retried alert would show here). */
const QUIET_MS = Math.max(25_000, GROUP_WINDOW_MS + 10_000);
const RATE_LIMIT_EVERY = 7;
const RETRY_AFTER_S = 2;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const secs = (ms: number | undefined) => (ms === undefined ? 'n/a' : `${(ms / 1000).toFixed(1)} s`);
const t0 = Date.now();
const log = (msg: string) => process.stdout.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${msg}\n`);

// ---- cleanup: every child and temp dir is registered here ------------------------------------------------

const cleanups: Array<{ name: string; fn: () => Promise<void> | void }> = [];
function onCleanup(name: string, fn: () => Promise<void> | void): () => void {
  const entry = { name, fn };
  cleanups.push(entry);
  return () => {
    const i = cleanups.indexOf(entry);
    if (i >= 0) cleanups.splice(i, 1);
  };
}
async function runCleanups(): Promise<void> {
  while (cleanups.length) {
    const { name, fn } = cleanups.pop()!;
    try {
      await Promise.race([Promise.resolve(fn()), sleep(30_000).then(() => log(`cleanup "${name}" did not finish in 30 s`))]);
    } catch (err) {
      log(`cleanup "${name}" failed: ${(err as Error).message}`);
    }
  }
}
let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (interrupted) return;
    interrupted = true;
    log(`${sig}: cleaning up`);
    void runCleanups().finally(() => process.exit(130));
  });
}

async function freePort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function tmpDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  onCleanup(`rm ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Signal a child's whole process group (it was spawned detached, so its pid is the group id). */
function killGroup(proc: ChildProcess, signal: NodeJS.Signals): void {
  if (proc.pid === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
  try {
    process.kill(-proc.pid, signal);
  } catch {
    try {
      proc.kill(signal);
    } catch {
      // gone
    }
  }
}
function exited(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((r) => proc.once('exit', () => r()));
}
async function stopChild(proc: ChildProcess, graceMs = 10_000): Promise<void> {
  killGroup(proc, 'SIGTERM');
  await Promise.race([exited(proc), sleep(graceMs)]);
  killGroup(proc, 'SIGKILL');
  await Promise.race([exited(proc), sleep(5_000)]);
}

// ---- a private Postgres cluster --------------------------------------------------------------------------

const IS_ROOT = process.getuid?.() === 0;

async function asPostgres(cmd: string, args: string[], timeoutMs = 90_000): Promise<string> {
  const [file, argv] = IS_ROOT ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  const { stdout, stderr } = await execFileP(file, argv, { timeout: timeoutMs, cwd: '/' });
  return `${stdout}${stderr}`;
}

class PrivatePostgres {
  readonly dataDir: string;
  running = false;
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {
    this.dataDir = path.join(dir, 'data');
  }

  get adminUrl(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }
  urlFor(db: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${db}`;
  }

  static async create(): Promise<PrivatePostgres> {
    const dir = tmpDir('fi-pg-');
    if (IS_ROOT) chownSync(dir, uidOf('postgres'), gidOf('postgres'));
    const pg = new PrivatePostgres(dir, await freePort());
    onCleanup('private postgres', () => pg.destroy());
    await asPostgres(`${PG_BIN}/initdb`, ['-D', pg.dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    await pg.start();
    return pg;
  }

  async start(): Promise<void> {
    const opts = `-p ${this.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${this.dir}`;
    await asPostgres(`${PG_BIN}/pg_ctl`, ['-D', this.dataDir, '-l', path.join(this.dir, 'postgres.log'), '-w', '-t', '60', '-o', opts, 'start']);
    this.running = true;
  }
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await asPostgres(`${PG_BIN}/pg_ctl`, ['-D', this.dataDir, '-m', mode, '-w', '-t', '60', 'stop']);
    this.running = false;
  }
  async destroy(): Promise<void> {
    try {
      await asPostgres(`${PG_BIN}/pg_ctl`, ['-D', this.dataDir, '-m', 'immediate', '-w', '-t', '30', 'stop'], 40_000);
    } catch {
      // not running
    }
    this.running = false;
  }

  async createDatabase(name: string): Promise<{ url: string; db: Kysely<Database> }> {
    const c = new PgClient({ connectionString: this.adminUrl });
    await c.connect();
    try {
      await c.query(`CREATE DATABASE ${name}`);
    } finally {
      await c.end();
    }
    const url = this.urlFor(name);
    const db = createDb(url);
    onCleanup(`db pool ${name}`, () => db.destroy());
    await migrateToLatest(db);
    return { url, db };
  }
}

function idOf(flag: '-u' | '-g', user: string): number {
  return Number(execFileSync('id', [flag, user], { encoding: 'utf8' }).trim());
}
const uidOf = (u: string) => idOf('-u', u);
const gidOf = (u: string) => idOf('-g', u);

// ---- the dev server as our own child ------------------------------------------------------------------

class DevServer {
  proc?: ChildProcess;
  readonly address: string;
  private unregister?: () => void;
  private constructor(
    readonly port: number,
    readonly uiPort: number,
    readonly logFile: string,
    readonly dbFile?: string,
  ) {
    this.address = `127.0.0.1:${port}`;
  }

  static async create(dir: string, persistent: boolean): Promise<DevServer> {
    const s = new DevServer(await freePort(), await freePort(), path.join(dir, 'temporal.log'), persistent ? path.join(dir, 'temporal.sqlite') : undefined);
    await s.start();
    return s;
  }

  async start(): Promise<void> {
    const out = openSync(this.logFile, 'a');
    const args = [
      'server', 'start-dev',
      '--ip', '127.0.0.1',
      '--port', String(this.port),
      '--ui-port', String(this.uiPort),
      '--headless',
      '--log-level', 'warn',
      ...(this.dbFile ? ['--db-filename', this.dbFile] : []),
      ...searchAttributeArgs(),
    ];
    const proc = spawn(temporalCliPath(), args, { detached: true, stdio: ['ignore', out, out] });
    closeSync(out);
    this.proc = proc;
    this.unregister = onCleanup('dev server', () => stopChild(proc));
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`dev server exited at start:\n${this.log().slice(-2000)}`);
      try {
        const c = await Connection.connect({ address: this.address, connectTimeout: 2_000 });
        try {
          await c.workflowService.describeNamespace({ namespace: 'default' });
          const sa = await c.operatorService.listSearchAttributes({ namespace: 'default' });
          if (Object.keys(sa.customAttributes ?? {}).includes('RetailerHealth')) return;
        } finally {
          await c.close();
        }
      } catch {
        // not yet
      }
      if (Date.now() > deadline) throw new Error(`dev server not ready in 60 s:\n${this.log().slice(-2000)}`);
      await sleep(250);
    }
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    killGroup(proc, signal);
    await Promise.race([exited(proc), sleep(15_000)]);
    if (proc.exitCode === null && proc.signalCode === null) {
      killGroup(proc, 'SIGKILL');
      await exited(proc);
    }
    this.unregister?.();
    this.proc = undefined;
  }

  log(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }
}

// ---- the monitor worker as a child process ----------------------------------------------------------

interface WorkerEnv {
  TEMPORAL_ADDRESS: string;
  DATABASE_URL: string;
  SLACK_WEBHOOK_URL: string;
  ALERT_WEBHOOK_URL: string;
  MONITOR_TASK_QUEUE: string;
}

class WorkerSupervisor {
  proc?: ChildProcess;
  generation = 0;
  /** Every generation's stdout + stderr, for the secret scan and for diagnosis. */
  logs: string[] = [];
  unexpectedExits: string[] = [];
  private expectingExit = false;
  private stopped = false;
  private unregister?: () => void;
  private readonly readyProcs = new WeakSet<ChildProcess>();
  readyAt?: number;

  constructor(private readonly env: WorkerEnv) {}

  /** Start a new worker process; resolves when it prints monitor-worker-ready. */
  async spawn(): Promise<number> {
    const gen = ++this.generation;
    this.logs[gen - 1] = '';
    const fixture = path.join(REPO, 'test', 'fixtures', 'monitor-worker-process.ts');
    const env: NodeJS.ProcessEnv = { ...process.env, ...this.env, TEMPORAL_NAMESPACE: 'default' };
    for (const k of ['SMTP_URL', 'ALERT_EMAIL_TO', 'STATUS_PAGE_PORT', 'INGESTION_WORKFLOW_TYPE']) delete env[k];
    const proc = spawn(process.execPath, ['--import', 'tsx', fixture], { cwd: REPO, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    this.expectingExit = false;
    this.unregister = onCleanup(`monitor worker #${gen}`, () => {
      this.stopped = true; // never restarted once cleanup began
      return stopChild(proc, 5_000);
    });
    const append = (c: Buffer) => (this.logs[gen - 1] += c.toString('utf8'));
    proc.stdout!.on('data', append);
    proc.stderr!.on('data', append);
    proc.once('exit', (code, signal) => {
      // Only a worker that was up is restarted here; one that dies while starting makes spawn() throw.
      if (this.proc === proc && this.readyProcs.has(proc) && !this.expectingExit && !this.stopped && this.unexpectedExits.length < 5) {
        this.unexpectedExits.push(`worker #${gen} exited by itself (code ${code}, signal ${signal}); restarted`);
        log(`worker #${gen} exited unexpectedly (code ${code}, signal ${signal}); starting another`);
        void (async () => {
          for (let attempt = 1; attempt <= 20 && !this.stopped; attempt++) {
            try {
              await this.spawn();
              return;
            } catch (err) {
              log(`could not restart the worker (attempt ${attempt}): ${(err as Error).message.split('\n')[0]}`);
              await sleep(3_000);
            }
          }
        })();
      }
    });
    const started = Date.now();
    const deadline = started + 120_000;
    while (!this.logs[gen - 1]!.includes('monitor-worker-ready')) {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`worker #${gen} exited before ready:\n${this.logs[gen - 1]!.slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`worker #${gen} not ready in 120 s`);
      await sleep(50);
    }
    this.readyAt = Date.now();
    this.readyProcs.add(proc);
    return Date.now() - started;
  }

  /** SIGKILL the running worker (the whole process group) and wait until it is gone. */
  async kill9(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    this.expectingExit = true;
    killGroup(proc, 'SIGKILL');
    await exited(proc);
    this.unregister?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const proc = this.proc;
    if (!proc) return;
    this.expectingExit = true;
    await stopChild(proc, 10_000);
    this.unregister?.();
  }

  allLogs(): string {
    return this.logs.join('\n');
  }
}

// ---- loopback Slack + webhook stand-in ---------------------------------------------------------------

interface Post {
  path: string;
  text: string;
  body: any;
  headers: IncomingHttpHeaders;
  at: number;
  status: number;
  hash: string;
}

interface StandIn {
  url: string;
  posts: Post[];
  onPost?: (p: Post) => void;
  close(): Promise<void>;
}

/**
 * Records every POST. The first attempt of every RATE_LIMIT_EVERY-th distinct body (per path) gets 429 with
 * Retry-After and the request path echoed in the body (a careless client would put the secret in its error).
 */
async function startStandIn(): Promise<StandIn> {
  const posts: Post[] = [];
  const distinct = new Map<string, number>(); // path → distinct bodies seen
  const limited = new Set<string>();
  const seen = new Set<string>();
  const s: Partial<StandIn> = { posts };
  const server: Server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // raw
      }
      const p = req.url ?? '/';
      const hash = createHash('sha256').update(`${p}\n${text}`).digest('hex').slice(0, 16);
      let status = 200;
      if (!seen.has(hash)) {
        seen.add(hash);
        const n = (distinct.get(p) ?? 0) + 1;
        distinct.set(p, n);
        if (n % RATE_LIMIT_EVERY === 0) {
          limited.add(hash);
          status = 429;
        }
      }
      const post: Post = { path: p, text, body, headers: req.headers, at: Date.now(), status, hash };
      posts.push(post);
      if (status === 429) {
        res.writeHead(429, { 'content-type': 'text/plain', 'retry-after': String(RETRY_AFTER_S) });
        res.end(`rate_limited: too many requests to ${p}`);
      } else {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('ok');
      }
      s.onPost?.(post);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  s.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  s.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  onCleanup('stand-in', () => s.close!());
  return s as StandIn;
}

// ---- reports and the alert events they must produce ---------------------------------------------------

type Step = 'S' | 'F';
/** Retailer i's repeating pattern: healthy; fail twice; fail three times; single failures (no alert). */
const PATTERNS: Step[][] = [['S'], ['S', 'F', 'F', 'S', 'S'], ['S', 'F', 'F', 'F', 'S', 'S'], ['S', 'S', 'F', 'S', 'S']];

interface Stream {
  retailer: string;
  steps: Step[];
  runIds: string[];
}

interface ExpectedEvent {
  eventId: string;
  incidentId: string;
  retailer: string;
  kind: 'fire' | 'resolve';
  /** Index of the report that causes it. */
  step: number;
}

function buildStreams(tag: string, perRetailer: number): Stream[] {
  const nonce = randomBytes(3).toString('hex');
  return Array.from({ length: RETAILERS }, (_, i) => {
    const retailer = `fi${tag}-r${String(i).padStart(2, '0')}`;
    const pattern = PATTERNS[i % PATTERNS.length]!;
    const steps = Array.from({ length: perRetailer }, (_, k) => pattern[k % pattern.length]!);
    return { retailer, steps, runIds: steps.map((_, k) => `${retailer}-${nonce}-${String(k).padStart(3, '0')}`) };
  });
}

/** The consecutive-failures rule at the default streak of 2 (nothing else can fire: SKUs constant, minutes not hours). */
function expectedEvents(s: Stream): { events: ExpectedEvent[]; finalStreak: number; openAtEnd: number } {
  const events: ExpectedEvent[] = [];
  let streak = 0;
  let seq = 0;
  let open: string | undefined;
  s.steps.forEach((step, k) => {
    if (step === 'F') {
      streak++;
      if (streak >= 2 && !open) {
        open = `${s.retailer}/consecutive_failures/${++seq}`;
        events.push({ eventId: `${open}/fire/1`, incidentId: open, retailer: s.retailer, kind: 'fire', step: k });
      }
    } else {
      streak = 0;
      if (open) {
        events.push({ eventId: `${open}/resolve`, incidentId: open, retailer: s.retailer, kind: 'resolve', step: k });
        open = undefined;
      }
    }
  });
  return { events, finalStreak: streak, openAtEnd: open ? 1 : 0 };
}

function reportFor(s: Stream, k: number): RunReportInput {
  const finished = Date.now() - 500;
  const base = { runId: s.runIds[k]!, retailer: s.retailer, schedule: `ingest-${s.retailer}`, startedAt: new Date(finished - 60_000).toISOString(), finishedAt: new Date(finished).toISOString() };
  return s.steps[k] === 'S'
    ? { ...base, status: 'success', skuCount: 1000, promoCount: 40, lastScrapeAt: new Date(finished).toISOString() }
    : { ...base, status: 'failure', error: `HTTP 503 from the retailer (fault-injection run ${k})` };
}

// ---- driving the reports --------------------------------------------------------------------------------

interface DriveStats {
  sent: number;
  verdicts: { accepted: number; duplicate: number; out_of_order: number };
  /** 'duplicate' on a report's first attempt: nothing retried it, so this would be a real double. */
  duplicateFirstAttempt: string[];
  retriedReports: number;
  retryAttempts: number;
  errorKinds: Map<string, number>;
  rejected: string[];
  noVerdict: string[];
  /** runId → when its verdict came back. */
  verdictAt: Map<string, number>;
  opened: Set<string>;
  resolved: Set<string>;
  latencies: number[];
  firstVerdictAt?: number;
  lastVerdictAt?: number;
}

function errorKind(err: unknown): string {
  const e = err as { name?: string; code?: unknown; message?: string; cause?: { name?: string; code?: unknown } };
  const code = e?.code ?? e?.cause?.code;
  return `${e?.name ?? 'Error'}${code !== undefined ? ` (code ${String(code)})` : ''}`;
}

function newStats(): DriveStats {
  return {
    sent: 0,
    verdicts: { accepted: 0, duplicate: 0, out_of_order: 0 },
    duplicateFirstAttempt: [],
    retriedReports: 0,
    retryAttempts: 0,
    errorKinds: new Map(),
    rejected: [],
    noVerdict: [],
    verdictAt: new Map(),
    opened: new Set(),
    resolved: new Set(),
    latencies: [],
  };
}

/** Sends every stream's reports (streams in parallel, each in order, paced); `st` fills as verdicts come back. */
async function drive(client: Client, taskQueue: string, streams: Stream[], paceMs: number, onProgress: (done: number) => void, st: DriveStats = newStats()): Promise<DriveStats> {
  let done = 0;
  const one = async (s: Stream, k: number) => {
    const report = reportFor(s, k);
    const started = Date.now();
    let attempts = 0;
    for (;;) {
      attempts++;
      if (attempts === 1) st.sent++;
      try {
        const v: RunVerdict = await client.withDeadline(Date.now() + ATTEMPT_MS, () => reportIngestionRun(client, report, { taskQueue }));
        st.verdicts[v.outcome]++;
        if (v.outcome === 'duplicate' && attempts === 1) st.duplicateFirstAttempt.push(report.runId as string);
        for (const i of v.opened) st.opened.add(i.id);
        for (const i of v.resolved) st.resolved.add(i.id);
        const now = Date.now();
        st.verdictAt.set(report.runId as string, now);
        st.latencies.push(now - started);
        st.firstVerdictAt ??= now;
        st.lastVerdictAt = now;
        break;
      } catch (err) {
        if (err instanceof InvalidRunReportError || err instanceof CommandRejectedError) {
          st.rejected.push(`${report.runId}: ${(err as Error).message}`);
          break;
        }
        const kind = errorKind(err);
        st.errorKinds.set(kind, (st.errorKinds.get(kind) ?? 0) + 1);
        if (attempts === 1) st.retriedReports++;
        st.retryAttempts++;
        if (Date.now() - started > REPORT_GIVE_UP_MS || interrupted) {
          st.noVerdict.push(report.runId as string);
          break;
        }
        await sleep(Math.min(500 * attempts, 3_000));
      }
    }
    onProgress(++done);
  };
  await Promise.all(
    streams.map(async (s, i) => {
      await sleep((paceMs * i) / streams.length); // stagger the streams
      for (let k = 0; k < s.steps.length && !interrupted; k++) {
        await one(s, k);
        await sleep(paceMs * (0.75 + Math.random() * 0.5));
      }
    }),
  );
  return st;
}

// ---- checks ---------------------------------------------------------------------------------------------

interface SinkCheck {
  posts200: number;
  posts429: number;
  /** Expected events not delivered at this sink. */
  missing: string[];
  /** Events delivered more than once: the event id (or retailer/kind), the Idempotency-Key, and why. */
  duplicates: Array<{ what: string; key?: string; firstAt: number; againAt: number; explanation: string }>;
  /** Events this run did not expect. */
  unexpected: string[];
  /** resolve arriving before its fire. */
  orderViolations: string[];
}

interface RetryAfterCheck {
  limited: number;
  retried: number;
  neverRetried: number;
  minGapMs?: number;
  maxGapMs?: number;
  early: number;
}

const KIND_OF_PREFIX: Array<[string, 'fire' | 'renotify' | 'resolve']> = [
  ['🔴 FIRING', 'fire'],
  ['🔁 STILL FIRING', 'renotify'],
  ['✅ RESOLVED', 'resolve'],
];

/** What a Slack message announces: one event (single message) or retailers of one kind (grouped). */
function parseSlack(body: any): { kind?: string; incidentId?: string; retailers: string[]; grouped: boolean } {
  const header: string = body?.blocks?.find((b: any) => b?.type === 'header')?.text?.text ?? '';
  const kind = KIND_OF_PREFIX.find(([p]) => header.startsWith(p))?.[1];
  if (/^\S+ [A-Z ]+: \+\d+ retailers?/u.test(header) || /: \+\d+ retailers? /.test(header)) {
    // grouped: one line per event in the sections (`• *retailer* — summary`); when those do not fit, the
    // top-level text `${title}: a, b, c` names each retailer once.
    const lines: string[] = [];
    for (const b of body?.blocks ?? []) {
      if (b?.type !== 'section') continue;
      for (const m of String(b?.text?.text ?? '').matchAll(/^• \*([^*]+)\* — /gm)) lines.push(m[1]!);
    }
    if (lines.length) return { kind, retailers: lines, grouped: true };
    const text: string = body?.text ?? '';
    const i = text.lastIndexOf('): ');
    const names = i >= 0 ? text.slice(i + 3).split(', ').map((x) => x.trim()).filter(Boolean) : [];
    return { kind, retailers: names, grouped: true };
  }
  const retailer = header.split(' — ').pop() ?? '';
  let incidentId: string | undefined;
  for (const b of body?.blocks ?? []) {
    for (const f of b?.fields ?? []) {
      const m = /^\*Incident\*\n(.+)$/s.exec(f?.text ?? '');
      if (m) incidentId = m[1]!.trim();
    }
  }
  return { kind, incidentId, retailers: retailer ? [retailer] : [], grouped: false };
}

function checkRetryAfter(posts: Post[]): RetryAfterCheck {
  const out: RetryAfterCheck = { limited: 0, retried: 0, neverRetried: 0, early: 0 };
  const gaps: number[] = [];
  posts.forEach((p, i) => {
    if (p.status !== 429) return;
    out.limited++;
    const next = posts.slice(i + 1).find((q) => q.hash === p.hash);
    if (!next) {
      out.neverRetried++;
      return;
    }
    out.retried++;
    const gap = next.at - p.at;
    gaps.push(gap);
    if (gap < RETRY_AFTER_S * 1000 - 50) out.early++;
  });
  if (gaps.length) {
    out.minGapMs = Math.min(...gaps);
    out.maxGapMs = Math.max(...gaps);
  }
  return out;
}

function explainDuplicate(firstAt: number, kills: number[]): string {
  // A POST already on the wire when the worker died can reach the stand-in a moment after the kill.
  const kill = kills.find((k) => firstAt <= k + 1_000 && k - firstAt <= 3_000);
  return kill !== undefined
    ? `first POST at ${((firstAt - kill) / 1000).toFixed(2)} s from a worker SIGKILL: the POST got its 200 but the activity's completion never reached the server, so the alert was re-sent (the documented crash duplicate; a receiver drops it by Idempotency-Key)`
    : 'NOT next to a worker kill: unexplained';
}

function checkWebhook(posts: Post[], expected: ExpectedEvent[], kills: number[]): SinkCheck {
  const ok = posts.filter((p) => p.status < 300);
  const want = new Map(expected.map((e) => [e.eventId, e]));
  const got = new Map<string, Post[]>();
  for (const p of ok) {
    const ids: string[] = p.body?.type === 'ingestion-monitor.alert-group' ? p.body.eventIds ?? [] : p.body?.eventId ? [p.body.eventId] : [];
    for (const id of ids) got.set(id, [...(got.get(id) ?? []), p]);
  }
  const out: SinkCheck = { posts200: ok.length, posts429: posts.length - ok.length, missing: [], duplicates: [], unexpected: [], orderViolations: [] };
  for (const id of want.keys()) if (!got.has(id)) out.missing.push(id);
  for (const [id, ps] of got) {
    if (!want.has(id)) out.unexpected.push(id);
    for (const again of ps.slice(1)) {
      out.duplicates.push({
        what: id,
        key: String(again.headers['idempotency-key'] ?? ''),
        firstAt: ps[0]!.at,
        againAt: again.at,
        explanation: `${again.headers['idempotency-key'] === ps[0]!.headers['idempotency-key'] ? 'same Idempotency-Key on both; ' : 'DIFFERENT Idempotency-Key; '}${explainDuplicate(ps[0]!.at, kills)}`,
      });
    }
  }
  for (const e of expected) {
    if (e.kind !== 'resolve') continue;
    const fire = got.get(`${e.incidentId}/fire/1`)?.[0];
    const resolve = got.get(e.eventId)?.[0];
    if (fire && resolve && resolve.at < fire.at) out.orderViolations.push(e.incidentId);
  }
  return out;
}

function checkSlack(posts: Post[], expected: ExpectedEvent[], kills: number[]): SinkCheck & { singles: number; groups: number } {
  const ok = posts.filter((p) => p.status < 300);
  const out: SinkCheck & { singles: number; groups: number } = {
    posts200: ok.length,
    posts429: posts.length - ok.length,
    missing: [],
    duplicates: [],
    unexpected: [],
    orderViolations: [],
    singles: 0,
    groups: 0,
  };
  // Identical bodies answered 200 more than once: the same message delivered again.
  const byHash = new Map<string, Post[]>();
  for (const p of ok) byHash.set(p.hash, [...(byHash.get(p.hash) ?? []), p]);
  for (const ps of byHash.values()) {
    for (const again of ps.slice(1)) {
      const m = parseSlack(again.body);
      out.duplicates.push({
        what: m.incidentId ? `${m.incidentId} ${m.kind}` : `${m.kind} group of ${m.retailers.length} (${m.retailers.join(', ')})`,
        firstAt: ps[0]!.at,
        againAt: again.at,
        explanation: `identical message; Slack has no Idempotency-Key (the webhook carries it); ${explainDuplicate(ps[0]!.at, kills)}`,
      });
    }
  }
  // Coverage per (retailer, kind): singles name the incident exactly; groups name retailers.
  const wantCount = new Map<string, number>();
  for (const e of expected) wantCount.set(`${e.retailer}|${e.kind}`, (wantCount.get(`${e.retailer}|${e.kind}`) ?? 0) + 1);
  const gotCount = new Map<string, number>();
  const singleIds = new Set<string>();
  const wantIds = new Set(expected.map((e) => e.eventId));
  for (const ps of byHash.values()) {
    const m = parseSlack(ps[0]!.body);
    if (m.grouped) out.groups++;
    else out.singles++;
    if (!m.grouped && m.incidentId) {
      const id = m.kind === 'resolve' ? `${m.incidentId}/resolve` : `${m.incidentId}/${m.kind}/1`;
      if (!wantIds.has(id)) out.unexpected.push(id);
      singleIds.add(id);
    }
    for (const r of m.retailers) gotCount.set(`${r}|${m.kind}`, (gotCount.get(`${r}|${m.kind}`) ?? 0) + 1);
  }
  for (const [k, n] of wantCount) {
    const g = gotCount.get(k) ?? 0;
    if (g < n) out.missing.push(`${k.replace('|', ' ')}: ${g} of ${n}`);
    if (g > n) out.unexpected.push(`${k.replace('|', ' ')}: ${g} for ${n} expected (distinct messages)`);
  }
  for (const [k, g] of gotCount) if (!wantCount.has(k)) out.unexpected.push(`${k.replace('|', ' ')}: ${g} not expected`);
  return out;
}

interface DbCheck {
  runRows: number;
  runDistinct: number;
  runsMissing: string[];
  runsExtra: string[];
  alertRows: number;
  alertsMissing: string[];
  alertsExtra: string[];
  /** (incident, kind, notify#) appearing more than once (event ids are unique by constraint). */
  alertDupKeys: number;
  undelivered: string[];
  statusMismatches: string[];
  quarantined: number;
  groupedRows: number;
}

async function checkDb(db: Kysely<Database>, streams: Stream[], expected: ExpectedEvent[]): Promise<DbCheck> {
  const runIds = new Set(streams.flatMap((s) => s.runIds));
  const runs = await db.selectFrom('ingestion_runs').select('run_id').execute();
  const present = new Set(runs.map((r) => r.run_id));
  const alerts = await db.selectFrom('alert_events').select(['event_id', 'incident_id', 'kind', 'delivered', 'silenced', 'delivery']).execute();
  const want = new Set(expected.map((e) => e.eventId));
  const have = new Set(alerts.map((a) => a.event_id));
  const keyCount = new Map<string, number>();
  for (const a of alerts) {
    const notify = a.event_id.split('/').pop();
    const k = `${a.incident_id}|${a.kind}|${a.kind === 'resolve' ? '-' : notify}`;
    keyCount.set(k, (keyCount.get(k) ?? 0) + 1);
  }
  const status = await db.selectFrom('retailer_status').select(['retailer', 'consecutive_failures', 'open_incidents', 'last_run_id']).execute();
  const statusMismatches: string[] = [];
  for (const s of streams) {
    const row = status.find((r) => r.retailer === s.retailer);
    const exp = expectedEvents(s);
    if (!row) statusMismatches.push(`${s.retailer}: no retailer_status row`);
    else {
      if (row.consecutive_failures !== exp.finalStreak) statusMismatches.push(`${s.retailer}: consecutive_failures ${row.consecutive_failures}, expected ${exp.finalStreak}`);
      if (row.open_incidents !== exp.openAtEnd) statusMismatches.push(`${s.retailer}: open_incidents ${row.open_incidents}, expected ${exp.openAtEnd}`);
      if (row.last_run_id !== s.runIds[s.runIds.length - 1]) statusMismatches.push(`${s.retailer}: last_run_id ${row.last_run_id}`);
    }
  }
  const quarantined = Number((await db.selectFrom('quarantine').select(sql<string>`count(*)`.as('n')).executeTakeFirst())?.n ?? 0);
  const parse = (d: unknown) => (typeof d === 'string' ? JSON.parse(d) : d) as Array<{ status: string; detail?: string }>;
  return {
    runRows: runs.length,
    runDistinct: present.size,
    runsMissing: [...runIds].filter((id) => !present.has(id)),
    runsExtra: [...present].filter((id) => !runIds.has(id)),
    alertRows: alerts.length,
    alertsMissing: [...want].filter((id) => !have.has(id)),
    alertsExtra: [...have].filter((id) => !want.has(id)),
    alertDupKeys: [...keyCount.values()].filter((n) => n > 1).length,
    undelivered: alerts.filter((a) => !a.silenced && !a.delivered).map((a) => a.event_id),
    statusMismatches,
    quarantined,
    groupedRows: alerts.filter((a) => parse(a.delivery).some((d) => (d.detail ?? '').startsWith('in one message'))).length,
  };
}

// ---- secrets ----------------------------------------------------------------------------------------------

interface SecretCheck {
  runs: number;
  events: number;
  historyHits: string[];
  queries: number;
  queryHits: string[];
  logBytes: number;
  logHits: string[];
  tableRows: number;
  tableHits: string[];
  /** What could not be checked. */
  errors: string[];
}

/** Every string in a decoded history, payload bytes as UTF-8. */
function strings(v: unknown, out: string[], depth = 0): void {
  if (depth > 60 || v === null || v === undefined) return;
  if (typeof v === 'string') out.push(v);
  else if (v instanceof Uint8Array) out.push(Buffer.from(v).toString('utf8'));
  else if (Array.isArray(v)) for (const x of v) strings(x, out, depth + 1);
  else if (typeof v === 'object') for (const x of Object.values(v as Record<string, unknown>)) strings(x, out, depth + 1);
}

async function scanSecrets(client: Client, db: Kysely<Database>, marker: string, logs: Array<[string, string]>): Promise<SecretCheck> {
  const out: SecretCheck = { runs: 0, events: 0, historyHits: [], queries: 0, queryHits: [], logBytes: 0, logHits: [], tableRows: 0, tableHits: [], errors: [] };
  const markerB64 = Buffer.from(marker).toString('base64').slice(0, 12);
  const running: string[] = [];
  try {
    for await (const wf of client.workflow.list({ query: '' })) {
      out.runs++;
      if (wf.status.name === 'RUNNING') running.push(wf.workflowId);
      try {
        const h = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
        out.events += h.events?.length ?? 0;
        const all: string[] = [];
        strings(h, all);
        if (all.some((s) => s.includes(marker) || s.includes(markerB64))) out.historyHits.push(`${wf.workflowId} (${wf.runId})`);
      } catch (err) {
        out.errors.push(`history of ${wf.workflowId} (${wf.runId}): ${(err as Error).message.slice(0, 200)}`);
      }
    }
  } catch (err) {
    out.errors.push(`listing workflows: ${(err as Error).message.slice(0, 200)}`);
  }
  const ask = async (what: string, fn: () => Promise<unknown>) => {
    out.queries++;
    try {
      const text = JSON.stringify(await fn());
      if (text.includes(marker)) out.queryHits.push(what);
    } catch (err) {
      out.errors.push(`${what}: query failed (${(err as Error).message.slice(0, 150)})`);
    }
  };
  for (const id of running) {
    const h = client.workflow.getHandle(id);
    if (id === DEFAULTS.workflowId) {
      await ask(`${id} config`, () => h.query(fleetConfigQuery));
      await ask(`${id} incidents`, () => h.query(fleetIncidentsQuery));
      await ask(`${id} alerts`, () => h.query(fleetAlertsQuery));
    } else {
      const r = retailerHandle(client, id.slice(DEFAULTS.retailerWorkflowIdPrefix.length));
      await ask(`${id} retailer`, () => r.query(retailerQuery));
      await ask(`${id} incidents`, () => r.query(retailerIncidentsQuery));
      await ask(`${id} alerts`, () => r.query(retailerAlertsQuery));
    }
    await ask(`${id} current details`, () => h.query('__temporal_workflow_metadata'));
    await ask(`${id} describe`, async () => {
      const d = await h.describe();
      return { memo: d.memo, searchAttributes: d.typedSearchAttributes, raw: d.raw.workflowExecutionInfo };
    });
  }
  for (const [name, text] of logs) {
    out.logBytes += Buffer.byteLength(text);
    if (text.includes(marker)) out.logHits.push(name);
  }
  try {
    const tables = await sql<{ table_name: string }>`select table_name from information_schema.tables where table_schema = 'public'`.execute(db);
    for (const { table_name } of tables.rows) {
      const rows = await sql<{ j: string }>`select row_to_json(t)::text as j from ${sql.table(table_name)} t`.execute(db);
      out.tableRows += rows.rows.length;
      const hits = rows.rows.filter((r) => r.j.includes(marker)).length;
      if (hits) out.tableHits.push(`${table_name}: ${hits} row(s)`);
    }
  } catch (err) {
    out.errors.push(`tables: ${(err as Error).message.slice(0, 200)}`);
  }
  return out;
}

// ---- one scenario ---------------------------------------------------------------------------------------

interface Outcome {
  name: string;
  ok: boolean;
  figures: Array<[string, string]>;
  problems: string[];
  notes: string[];
  durationMs: number;
}

interface Env {
  client: Client;
  server: DevServer;
  worker: WorkerSupervisor;
  standIn: StandIn;
  db: Kysely<Database>;
  taskQueue: string;
  marker: string;
  slackPath: string;
  hookPath: string;
}

async function setUp(tag: string, pg: PrivatePostgres, persistentServer: boolean): Promise<Env> {
  const dir = tmpDir(`fi-s${tag}-`);
  const marker = `FISECRET${randomBytes(8).toString('hex')}`;
  const slackPath = `/services/T0FAULT/B0INJECT/${marker}`;
  const hookPath = '/alert-hook';
  const [server, standIn, database] = await Promise.all([
    DevServer.create(dir, persistentServer),
    startStandIn(),
    pg.createDatabase(`fi_s${tag}_${randomBytes(3).toString('hex')}`),
  ]);
  const connection = await Connection.connect({ address: server.address });
  onCleanup('client connection', () => connection.close());
  const client = new Client({ connection, namespace: 'default' });
  const taskQueue = `fault-injection-s${tag}`;
  const worker = new WorkerSupervisor({
    TEMPORAL_ADDRESS: server.address,
    DATABASE_URL: database.url,
    SLACK_WEBHOOK_URL: `${standIn.url}${slackPath}`,
    ALERT_WEBHOOK_URL: `${standIn.url}${hookPath}`,
    MONITOR_TASK_QUEUE: taskQueue,
  });
  onCleanup('worker supervisor', () => worker.stop());
  const readyMs = await worker.spawn();
  log(`scenario ${tag}: dev server ${server.address}${server.dbFile ? ' (SQLite file)' : ' (in memory)'}, Postgres 127.0.0.1:${pg.port}, worker ready in ${secs(readyMs)}`);
  // Flap control off (flapCount 0): expectedEvents models the story's fire / resolve pairs; flap control
  // holding a retailer's third fire open is tested on its own (src/rules/flapping.ts and its tests).
  await ensureFleet(client, { workflowId: DEFAULTS.workflowId, taskQueue }, { groupWindowMs: GROUP_WINDOW_MS, thresholds: { flapCount: 0 } });
  return { client, server, worker, standIn, db: database.db, taskQueue, marker, slackPath, hookPath };
}

/** Wait until every run row, alert row and sink delivery is in; then until nothing new arrives for QUIET_MS. */
async function settle(e: Env, streams: Stream[], expected: ExpectedEvent[]): Promise<{ settledAfterMs?: number; settledAt?: number; quiet: boolean }> {
  const start = Date.now();
  const runIds = streams.reduce((n, s) => n + s.runIds.length, 0);
  const wantIds = new Set(expected.map((x) => x.eventId));
  let settledAfterMs: number | undefined;
  while (Date.now() - start < SETTLE_MAX_MS && !interrupted) {
    const runs = Number((await e.db.selectFrom('ingestion_runs').select(sql<string>`count(*)`.as('n')).executeTakeFirst())?.n ?? 0);
    const alerts = await e.db.selectFrom('alert_events').select(['event_id', 'delivered', 'silenced']).execute();
    const recorded = alerts.filter((a) => wantIds.has(a.event_id) && (a.delivered || a.silenced)).length;
    const hook = checkWebhook(e.standIn.posts.filter((p) => p.path === e.hookPath), expected, []);
    if (runs >= runIds && recorded >= wantIds.size && hook.missing.length === 0) {
      settledAfterMs = Date.now() - start;
      break;
    }
    await sleep(1_000);
  }
  // Quiet period: a late re-send (a killed activity retried) or a late row would show up here.
  const quietStart = Date.now();
  let lastChange = Date.now();
  let seen = e.standIn.posts.length;
  let rows = -1;
  while (Date.now() - lastChange < QUIET_MS && Date.now() - quietStart < 3 * QUIET_MS && !interrupted) {
    await sleep(1_000);
    const r = Number((await e.db.selectFrom('alert_events').select(sql<string>`count(*)`.as('n')).executeTakeFirst())?.n ?? 0);
    if (e.standIn.posts.length !== seen || r !== rows) {
      seen = e.standIn.posts.length;
      rows = r;
      lastChange = Date.now();
    }
  }
  return { settledAfterMs, settledAt: settledAfterMs === undefined ? undefined : start + settledAfterMs, quiet: Date.now() - lastChange >= QUIET_MS };
}

async function evaluate(name: string, e: Env, streams: Stream[], stats: DriveStats, kills: number[], extra: { figures: Array<[string, string]>; notes: string[]; problems: string[] }, startedAt: number): Promise<Outcome> {
  const expected = streams.flatMap((s) => expectedEvents(s).events);
  log(`${name}: all verdicts in (${stats.sent} reports); waiting for rows and deliveries`);
  const settled = await settle(e, streams, expected);
  const dbc = await checkDb(e.db, streams, expected);
  const slackPosts = e.standIn.posts.filter((p) => p.path === e.slackPath);
  const hookPosts = e.standIn.posts.filter((p) => p.path === e.hookPath);
  const slack = checkSlack(slackPosts, expected, kills);
  const hook = checkWebhook(hookPosts, expected, kills);
  const ra = checkRetryAfter([...slackPosts, ...hookPosts].sort((a, b) => a.at - b.at));
  log(`${name}: scanning histories, queries, logs and tables for the secret`);
  const sec = await scanSecrets(e.client, e.db, e.marker, [
    ...e.worker.logs.map((l, i): [string, string] => [`worker #${i + 1} log`, l]),
    ['dev server log', e.server.log()],
  ]);
  const expectedOpened = new Set(expected.filter((x) => x.kind === 'fire').map((x) => x.incidentId));
  const verdictOpenedMissing = [...expectedOpened].filter((id) => !stats.opened.has(id));
  const problems = [...extra.problems];
  const notes = [...extra.notes, ...e.worker.unexpectedExits];
  const lost = stats.noVerdict.length + dbc.runsMissing.length;
  if (stats.noVerdict.length) problems.push(`${stats.noVerdict.length} report(s) without a verdict: ${stats.noVerdict.slice(0, 5).join(', ')}`);
  if (stats.rejected.length) problems.push(`${stats.rejected.length} report(s) rejected: ${stats.rejected.slice(0, 3).join('; ')}`);
  if (stats.verdicts.out_of_order) problems.push(`${stats.verdicts.out_of_order} out_of_order verdict(s)`);
  if (stats.duplicateFirstAttempt.length) problems.push(`'duplicate' on a first attempt: ${stats.duplicateFirstAttempt.slice(0, 5).join(', ')}`);
  if (dbc.runsMissing.length) problems.push(`ingestion_runs missing ${dbc.runsMissing.length}: ${dbc.runsMissing.slice(0, 5).join(', ')}`);
  if (dbc.runsExtra.length) problems.push(`ingestion_runs has ${dbc.runsExtra.length} unexpected run id(s)`);
  if (dbc.alertsMissing.length) problems.push(`alert_events missing: ${dbc.alertsMissing.slice(0, 8).join(', ')}`);
  if (dbc.alertsExtra.length) problems.push(`alert_events unexpected: ${dbc.alertsExtra.slice(0, 8).join(', ')}`);
  if (dbc.alertDupKeys) problems.push(`alert_events: ${dbc.alertDupKeys} (incident, kind, notify#) key(s) more than once`);
  if (dbc.undelivered.length) problems.push(`alert_events not delivered: ${dbc.undelivered.slice(0, 8).join(', ')}`);
  if (dbc.statusMismatches.length) problems.push(`retailer_status: ${dbc.statusMismatches.slice(0, 5).join('; ')}`);
  if (dbc.quarantined) problems.push(`${dbc.quarantined} quarantined row(s)`);
  if (verdictOpenedMissing.length && stats.verdicts.duplicate === 0) problems.push(`verdicts did not report opening ${verdictOpenedMissing.slice(0, 5).join(', ')}`);
  for (const [label, c] of [['Slack', slack], ['webhook', hook]] as const) {
    if (c.missing.length) problems.push(`${label} missing: ${c.missing.slice(0, 8).join(', ')}`);
    if (c.unexpected.length) problems.push(`${label} unexpected: ${c.unexpected.slice(0, 8).join(', ')}`);
    if (c.orderViolations.length) problems.push(`${label}: resolve before fire for ${c.orderViolations.join(', ')}`);
    for (const d of c.duplicates) (d.explanation.includes('NOT next to') ? problems : notes).push(`${label} duplicate ${d.what}${d.key ? ` [Idempotency-Key ${d.key}]` : ''}, again ${secs(d.againAt - d.firstAt)} later: ${d.explanation}`);
  }
  if (ra.early) problems.push(`${ra.early} retry(ies) came sooner than Retry-After`);
  if (ra.neverRetried) problems.push(`${ra.neverRetried} rate-limited POST(s) never retried`);
  if (sec.historyHits.length + sec.queryHits.length + sec.logHits.length + sec.tableHits.length) {
    problems.push(`secret found: ${[...sec.historyHits, ...sec.queryHits, ...sec.logHits, ...sec.tableHits].slice(0, 8).join('; ')}`);
  }
  if (sec.errors.length) problems.push(`secret scan incomplete: ${sec.errors.slice(0, 5).join('; ')}`);
  if (settled.settledAfterMs === undefined) problems.push(`not settled within ${secs(SETTLE_MAX_MS)} of the last verdict`);
  if (!settled.quiet) notes.push('POSTs or alert rows were still changing at the end of the quiet period');
  // Every history the scenario produced replays on the workflow code that ran it (kills and restarts included).
  const rc = await replayCheck(e.client, `TaskQueue = '${e.taskQueue}'`, 500);
  if (rc.failed.length) problems.push(`replay check: ${rc.failed.length} nondeterministic: ${rc.failed.slice(0, 3).map((f) => `${f.workflowId}: ${f.error}`).join(' | ')}`);
  const lat = [...stats.latencies].sort((a, b) => a - b);
  const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
  const slackDupCrash = slack.duplicates.filter((d) => !d.explanation.includes('NOT next to')).length;
  const hookDupCrash = hook.duplicates.filter((d) => !d.explanation.includes('NOT next to')).length;
  const figures: Array<[string, string]> = [
    ['reports sent / verdicts', `${stats.sent} / ${stats.verdicts.accepted + stats.verdicts.duplicate + stats.verdicts.out_of_order} (accepted ${stats.verdicts.accepted}, duplicate ${stats.verdicts.duplicate}, out_of_order ${stats.verdicts.out_of_order}); no verdict ${stats.noVerdict.length}`],
    ['calls retried', `${stats.retriedReports} report(s), ${stats.retryAttempts} failed attempt(s): ${[...stats.errorKinds].map(([k, n]) => `${k} ×${n}`).join(', ') || 'none'}`],
    ['verdict latency p50 / p95 / max', `${pct(0.5)} ms / ${pct(0.95)} ms / ${lat[lat.length - 1]} ms`],
    ...extra.figures,
    ['ingestion_runs', `${dbc.runRows} rows, ${dbc.runDistinct} distinct, expected ${streams.reduce((n, s) => n + s.runIds.length, 0)}; missing ${dbc.runsMissing.length}, unexpected ${dbc.runsExtra.length}`],
    ['alert_events', `${dbc.alertRows} rows, expected ${expected.length} (${expected.filter((x) => x.kind === 'fire').length} fire + ${expected.filter((x) => x.kind === 'resolve').length} resolve); missing ${dbc.alertsMissing.length}, unexpected ${dbc.alertsExtra.length}, keys twice ${dbc.alertDupKeys}, undelivered ${dbc.undelivered.length}, sent grouped ${dbc.groupedRows}`],
    ['retailer_status', dbc.statusMismatches.length ? `${dbc.statusMismatches.length} mismatch(es)` : `${streams.length} rows match (streak, open incidents, last run)`],
    ['Slack stand-in', `${slack.posts200} POSTs answered 200 (${slack.singles} single, ${slack.groups} grouped messages), ${slack.posts429} answered 429; missing ${slack.missing.length}, unexpected ${slack.unexpected.length}, duplicates ${slack.duplicates.length} (${slackDupCrash} at a worker kill)`],
    ['webhook stand-in', `${hook.posts200} POSTs answered 200, ${hook.posts429} answered 429; each expected event id once: ${hook.missing.length === 0 && hook.duplicates.length === 0 ? 'yes' : 'no'} (missing ${hook.missing.length}, duplicates ${hook.duplicates.length}, ${hookDupCrash} at a worker kill); resolve before fire ${hook.orderViolations.length}`],
    ['Retry-After (2 s)', `${ra.limited} POST(s) answered 429, ${ra.retried} retried, gap ${secs(ra.minGapMs)} .. ${secs(ra.maxGapMs)}, early ${ra.early}`],
    ['settled', `${settled.settledAfterMs === undefined ? 'NOT' : secs(settled.settledAfterMs)} after the last verdict${kills.length ? ` (${secs(settled.settledAt === undefined ? undefined : settled.settledAt - kills[kills.length - 1]!)} after the last kill)` : ''}; then ${secs(QUIET_MS)} quiet: ${settled.quiet ? 'yes' : 'no'}`],
    ['replay check', `${rc.replayed} histories replayed in ${secs(rc.seconds * 1_000)}, ${rc.failed.length} nondeterministic`],
    ['load average (1 min) at end', os.loadavg()[0]!.toFixed(1)],
    ['secret marker', `histories ${sec.historyHits.length} hits (${sec.runs} runs, ${sec.events} events); queries ${sec.queryHits.length} (${sec.queries}); logs ${sec.logHits.length} (${(sec.logBytes / 1024).toFixed(0)} KiB); tables ${sec.tableHits.length} (${sec.tableRows} rows)`],
  ];
  return { name, ok: problems.length === 0 && lost === 0, figures, problems, notes, durationMs: Date.now() - startedAt };
}

// ---- scenarios -------------------------------------------------------------------------------------------

async function scenarioWorkerKills(pg: PrivatePostgres): Promise<Outcome> {
  const name = '1. worker SIGKILL ×3';
  const startedAt = Date.now();
  const perRetailer = QUICK ? 12 : 30;
  const e = await setUp('1', pg, false);
  const streams = buildStreams('1', perRetailer);
  const total = perRetailer * RETAILERS;
  const killAt = [0.25, 0.5, 0.75].map((f) => Math.round(total * f));
  const kills: number[] = [];
  const restarts: string[] = [];
  const figures: Array<[string, string]> = [];
  let killing: Promise<void> = Promise.resolve();
  const doKill = async (n: number, aimed: string) => {
    const at = Date.now();
    await e.worker.kill9();
    kills.push(at);
    log(`kill ${n}: worker SIGKILLed (${aimed}); starting a new one`);
    const readyMs = await e.worker.spawn();
    restarts.push(`kill ${n} (${aimed}): new worker ready ${secs(readyMs)} later`);
  };
  let next = 0;
  const stats = await drive(e.client, e.taskQueue, streams, QUICK ? 2_000 : 3_000, (done) => {
    if (next < killAt.length && done >= killAt[next]!) {
      const n = ++next;
      killing = killing.then(async () => {
        if (n === 1) return doKill(n, `at ${done} verdicts`);
        // Aim at an alert in flight: kill the moment the next alert POST reaches the stand-in (within 10 s).
        const aimed = await new Promise<string>((resolve) => {
          const timer = setTimeout(() => {
            e.standIn.onPost = undefined;
            resolve(`at ${done} verdicts, no alert POST within 10 s`);
          }, 10_000);
          e.standIn.onPost = (p) => {
            if (p.status !== 200) return;
            clearTimeout(timer);
            e.standIn.onPost = undefined;
            // the POST's 200 is on its way; the worker dies before it can complete the activity
            resolve(`at ${done} verdicts, right as a ${p.path === e.hookPath ? 'webhook' : 'Slack'} alert POST arrived`);
          };
        });
        return doKill(n, aimed);
      });
    }
  });
  await killing;
  const afterKill = (k: number) => {
    const after = [...stats.verdictAt.values()].filter((t) => t > k).sort((a, b) => a - b)[0];
    return after === undefined ? undefined : after - k;
  };
  figures.push(['kills', `${kills.length} SIGKILLs; ${restarts.join('; ')}`]);
  figures.push(['first verdict after each kill', kills.map((k) => secs(afterKill(k))).join(', ')]);
  const problems = kills.length < 3 ? [`only ${kills.length} kills happened`] : [];
  return evaluate(name, e, streams, stats, kills, { figures, notes: [], problems }, startedAt);
}

async function scenarioServerRestart(pg: PrivatePostgres): Promise<Outcome> {
  const name = '2. dev server restart';
  const startedAt = Date.now();
  const perRetailer = QUICK ? 10 : 20;
  const e = await setUp('2', pg, true);
  const streams = buildStreams('2', perRetailer);
  const total = perRetailer * RETAILERS;
  let restart: Promise<void> = Promise.resolve();
  let downAt: number | undefined;
  let upAt: number | undefined;
  let triggered = false;
  const stats = await drive(e.client, e.taskQueue, streams, QUICK ? 2_000 : 3_000, (done) => {
    if (!triggered && done >= Math.round(total * 0.45)) {
      triggered = true;
      restart = (async () => {
        downAt = Date.now();
        log(`dev server: ${SERVER_KILL_SIGNAL} at ${done} verdicts`);
        await e.server.kill(SERVER_KILL_SIGNAL);
        await sleep(5_000);
        await e.server.start();
        upAt = Date.now();
        log(`dev server back after ${secs(upAt - downAt)} (same SQLite file and port)`);
      })();
    }
  });
  await restart;
  const firstAfter = upAt === undefined ? undefined : [...stats.verdictAt.values()].filter((t) => t > upAt!).sort((a, b) => a - b)[0];
  const figures: Array<[string, string]> = [
    ['server restart', downAt === undefined ? 'did not happen' : `${SERVER_KILL_SIGNAL}, down ${secs((upAt ?? Date.now()) - downAt)} (5 s held down + start); first verdict ${secs(firstAfter === undefined ? undefined : firstAfter - upAt!)} after it was back`],
    ['worker processes', `${e.worker.generation} (${e.worker.unexpectedExits.length} unexpected exit(s))`],
  ];
  return evaluate(name, e, streams, stats, [], { figures, notes: [], problems: downAt === undefined ? ['the restart did not happen'] : [] }, startedAt);
}

async function scenarioPostgresOutage(pg: PrivatePostgres): Promise<Outcome> {
  const name = `3. Postgres outage ${QUICK ? 30 : 60} s`;
  const startedAt = Date.now();
  const perRetailer = QUICK ? 15 : 45;
  const outageMs = QUICK ? 30_000 : 60_000;
  const e = await setUp('3', pg, false);
  const streams = buildStreams('3', perRetailer);
  const total = perRetailer * RETAILERS;
  let outage: Promise<void> = Promise.resolve();
  let downAt: number | undefined;
  let upAt: number | undefined;
  let triggered = false;
  let verdictsDuring = 0;
  const live = newStats();
  const driving = drive(
    e.client,
    e.taskQueue,
    streams,
    QUICK ? 2_000 : 3_000,
    (done) => {
      if (downAt !== undefined && upAt === undefined) verdictsDuring++;
      if (!triggered && done >= Math.round(total * 0.25)) {
        triggered = true;
        outage = (async () => {
          log(`postgres: pg_ctl stop -m fast at ${done} verdicts`);
          await pg.stop('fast');
          downAt = Date.now();
          await sleep(outageMs);
          await pg.start();
          upAt = Date.now();
          log(`postgres: started again after ${secs(upAt - downAt)}`);
        })();
      }
    },
    live,
  );
  // Backlog: rows whose verdicts came back before Postgres returned; how long after it returned are they in?
  let backlogRunsMs: number | undefined;
  let backlogAlertsMs: number | undefined;
  let backlogRuns = 0;
  let backlogAlerts = 0;
  const measure = (async () => {
    while (upAt === undefined && !interrupted) {
      await sleep(200);
      if (!triggered && live.lastVerdictAt !== undefined && live.verdictAt.size >= total) return; // never triggered
    }
    if (upAt === undefined) return;
    const back = upAt;
    const before = [...live.verdictAt].filter(([, t]) => t <= back).map(([id]) => id);
    backlogRuns = before.length;
    const expectedBefore = streams.flatMap((s) => expectedEvents(s).events.filter((ev) => (live.verdictAt.get(s.runIds[ev.step]!) ?? Infinity) <= back)).map((ev) => ev.eventId);
    backlogAlerts = expectedBefore.length;
    const deadline = back + 5 * 60_000;
    while (Date.now() < deadline && (backlogRunsMs === undefined || backlogAlertsMs === undefined) && !interrupted) {
      try {
        if (backlogRunsMs === undefined) {
          const n = before.length ? Number((await e.db.selectFrom('ingestion_runs').select(sql<string>`count(*)`.as('n')).where('run_id', 'in', before).executeTakeFirst())?.n ?? 0) : 0;
          if (n >= before.length) backlogRunsMs = Date.now() - back;
        }
        if (backlogAlertsMs === undefined) {
          const n = expectedBefore.length ? Number((await e.db.selectFrom('alert_events').select(sql<string>`count(*)`.as('n')).where('event_id', 'in', expectedBefore).executeTakeFirst())?.n ?? 0) : 0;
          if (n >= expectedBefore.length) backlogAlertsMs = Date.now() - back;
        }
      } catch {
        // the pool reconnects
      }
      await sleep(250);
    }
  })();
  const stats = await driving;
  await outage;
  await measure;
  const figures: Array<[string, string]> = [
    ['outage', downAt === undefined ? 'did not happen' : `pg_ctl stop -m fast → start: ${secs((upAt ?? Date.now()) - downAt)}; ${verdictsDuring} verdicts came back while Postgres was down`],
    ['backlog written after Postgres returned', `runs: ${secs(backlogRunsMs)} (${backlogRuns} runs verdicted before it returned); alert events: ${secs(backlogAlertsMs)} (${backlogAlerts})`],
    // Alerting does not need Postgres: the stand-ins should keep getting alerts while it is down.
    ['alert POSTs while Postgres was down', downAt === undefined ? 'n/a' : `${e.standIn.posts.filter((p) => p.at >= downAt! && p.at <= (upAt ?? Date.now())).length} (Slack and webhook stand-ins)`],
  ];
  return evaluate(name, e, streams, stats, [], { figures, notes: [], problems: downAt === undefined ? ['the outage did not happen'] : [] }, startedAt);
}

// ---- main -----------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  log(`fault injection${QUICK ? ' (--quick)' : ''}: scenarios ${[...ONLY].join(', ')}; group window ${GROUP_WINDOW_MS} ms; ${os.cpus().length} cores, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const outcomes: Outcome[] = [];
  const pg = await PrivatePostgres.create();
  log(`private Postgres cluster on 127.0.0.1:${pg.port} (${pg.dataDir})`);
  const scenarios: Array<[number, (pg: PrivatePostgres) => Promise<Outcome>]> = [
    [1, scenarioWorkerKills],
    [2, scenarioServerRestart],
    [3, scenarioPostgresOutage],
  ];
  for (const [n, run] of scenarios) {
    if (!ONLY.has(n) || interrupted) continue;
    const mark = cleanups.length;
    try {
      outcomes.push(await run(pg));
    } catch (err) {
      log(`scenario ${n} failed: ${(err as Error).stack ?? err}`);
      outcomes.push({ name: `scenario ${n}`, ok: false, figures: [], problems: [`failed to run: ${(err as Error).stack ?? err}`], notes: [], durationMs: 0 });
    } finally {
      // this scenario's children and dirs (the Postgres cluster stays for the next one)
      while (cleanups.length > mark) {
        const { name, fn } = cleanups.pop()!;
        try {
          await fn();
        } catch (err) {
          log(`cleanup "${name}" failed: ${(err as Error).message}`);
        }
      }
    }
  }
  const table = new Table({ head: ['scenario', 'figure', 'value'], colWidths: [24, 34, 110], wordWrap: true });
  for (const o of outcomes) {
    table.push([{ rowSpan: o.figures.length + 1, content: `${o.name}\n${o.ok ? 'PASS' : 'FAIL'}\n${secs(o.durationMs)}` }, 'result', o.ok ? 'no loss, no unexplained duplicate, no secret' : o.problems.join('\n')]);
    for (const [k, v] of o.figures) table.push([k, v]);
  }
  process.stdout.write(`\n${table.toString()}\n`);
  for (const o of outcomes) {
    if (o.notes.length) process.stdout.write(`\n${o.name} — notes:\n${o.notes.map((n) => `  - ${n}`).join('\n')}\n`);
    if (o.problems.length) process.stdout.write(`\n${o.name} — problems:\n${o.problems.map((n) => `  - ${n}`).join('\n')}\n`);
  }
  process.stdout.write(`\nJSON: ${JSON.stringify(outcomes)}\n`);
  process.exitCode = outcomes.every((o) => o.ok) ? 0 : 1;
}

main()
  .catch((err) => {
    log(`fatal: ${(err as Error).stack ?? err}`);
    process.exitCode = 2;
  })
  .finally(async () => {
    await runCleanups();
    // the Temporal client's native bits can keep the loop alive
    setTimeout(() => process.exit(process.exitCode ?? 0), 1_000).unref();
  });
