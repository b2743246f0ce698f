/**
 * `ingestion-monitor`: the operator CLI for the monitor workflows (see docs/cli.md): one retailer monitor
 * per retailer (`ingestion-monitor/<retailer>`) and the fleet workflow (`ingestion-monitor`).
 * This file is only the command surface; each command lives in ./commands, formatting in ./format.
 */
import { Command, CommanderError, Option } from 'commander';
import { loadConfig, type LoadedConfig } from '../config';
import { RULES } from '../rules/types';
import { defaultBy, STATUS_LIMIT } from './args';
import { type GlobalOptions, Output } from './output';
import { CliError, EXIT, EXIT_CODES_HELP, unexpected, usageError } from './errors';
import { redact, redactUrl } from '../shared/redact';

/**
 * Each command's module is loaded when that command runs, not before: `--help` and a command's own
 * start then load only what it uses (`migrate` alone needs kysely and pg, the Temporal commands the
 * client; docs/benchmarks.md, "CLI start"). `require`, not `import()`: run from source through tsx, an
 * `import()` would be an ES import, which needs file extensions.
 */
const read = (): typeof import('./commands/read') => require('./commands/read');
const operate = (): typeof import('./commands/operate') => require('./commands/operate');
const maintenance = (): typeof import('./commands/maintenance') => require('./commands/maintenance');
const report = (): typeof import('./commands/report') => require('./commands/report');
const migrate = (): typeof import('./commands/migrate') => require('./commands/migrate');

function settings(): LoadedConfig {
  try {
    return loadConfig(process.env);
  } catch (err) {
    throw new CliError(`bad configuration: ${(err as Error).message}`, EXIT.usage);
  }
}

const ENV_HELP = `
Environment:
  TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE  connection (envconfig)
  MONITOR_WORKFLOW_ID, MONITOR_TASK_QUEUE   the fleet workflow and task queue (default ingestion-monitor)
  MONITOR_RETAILER_ID_PREFIX                retailer monitors are <prefix><retailer> (default ingestion-monitor/)
  DATABASE_URL                              for migrate
${EXIT_CODES_HELP}`;

export function buildProgram(): Command {
  const cfg = settings();
  const program = new Command('ingestion-monitor')
    .description('Operate the Temporal ingestion monitor: health, incidents, silences, replays, manual reports.')
    .option('--workflow-id <id>', 'fleet workflow id (MONITOR_WORKFLOW_ID)', cfg.workflowId)
    .option('--retailer-prefix <prefix>', 'retailer monitors are <prefix><retailer> (MONITOR_RETAILER_ID_PREFIX)', cfg.retailerWorkflowIdPrefix)
    .option('--json', 'print machine-readable JSON instead of tables')
    .option('--address <host:port>', 'Temporal address (overrides TEMPORAL_ADDRESS)')
    .option('--namespace <ns>', 'Temporal namespace (overrides TEMPORAL_NAMESPACE)')
    .addHelpText('after', ENV_HELP)
    .showHelpAfterError('(add --help for usage)')
    // Commander would exit(1) itself; we turn its errors into exit 2 in main().
    .exitOverride();

  const ctx = (cmd: Command) => {
    const g = cmd.optsWithGlobals<GlobalOptions>();
    return { g, out: new Output(!!g.json) };
  };
  const by = () => new Option('--by <who>', 'who is doing this, for the audit trail').default(defaultBy(), '$USER@hostname');
  const rule = () => new Option('--rule <rule>', 'one rule instead of all of the retailer\'s').choices([...RULES, '*']);

  program
    .command('status')
    .description('health of the fleet: running retailer monitors counted by health (Temporal visibility), those not healthy listed, and report counters')
    .option('--limit <n>', 'ask at most this many retailer monitors; over it only those not healthy are listed, the healthy counted', String(STATUS_LIMIT))
    .action((o: { limit: string }, cmd: Command) => {
      const { g, out } = ctx(cmd);
      if (!/^\d+$/.test(o.limit) || Number(o.limit) < 1) throw usageError(`--limit: "${o.limit}" is not a positive whole number`);
      return read().status(g, out, { limit: Number(o.limit) });
    });

  program.command('retailer <id>').description('one retailer: last runs, thresholds, silences, incidents').action((id: string, _o, cmd: Command) => {
    const { g, out } = ctx(cmd);
    return read().retailer(g, out, id);
  });

  program
    .command('incidents')
    .description('open incidents of every retailer (or of one, --retailer)')
    .option('--retailer <id>', 'only this retailer')
    .action((o: { retailer?: string }, cmd: Command) => {
      const { g, out } = ctx(cmd);
      return read().incidents(g, out, o);
    });

  program
    .command('alerts')
    .description('the most recent alert events (fire, re-notify, resolve) with their stale diagnosis')
    .option('--retailer <id>', 'only this retailer')
    .action((o: { retailer?: string }, cmd: Command) => {
      const { g, out } = ctx(cmd);
      return read().alerts(g, out, o);
    });

  program
    .command('replay <retailer>')
    .description("re-run a retailer's ingestion now (its Schedule, or its ingestion workflow)")
    .addOption(by())
    .action((retailer: string, o: { by: string }, cmd: Command) => {
      const { g, out } = ctx(cmd);
      return operate().replay(g, out, retailer, o, cfg.temporalUiUrl);
    });

  program
    .command('reprocess <retailer>')
    .description("rebuild a retailer's state from recorded runs in [from, to] (no repeat notifications)")
    .requiredOption('--from <iso>', 'start, ISO-8601 with timezone (2026-11-27T00:00:00Z)')
    .requiredOption('--to <iso>', 'end, ISO-8601 with timezone')
    .addOption(by())
    .action((retailer: string, o: { from: string; to: string; by: string }, cmd: Command) => {
      const { g, out } = ctx(cmd);
      return operate().reprocess(g, out, retailer, o);
    });

  program
    .command('silence <retailer>')
    .description('record but do not send alerts for a retailer (or one rule) for a while')
    .addOption(rule())
    .option('--for <duration>', 'how long: 30m, 2h, 1d, 1h30m')
    .option('--until <iso>', 'or until when (ISO-8601 with timezone)')
    .requiredOption('--reason <text>', 'why (shown in status and alerts)')
    .addOption(by())
    .action((retailer: string, o: { rule?: string; for?: string; until?: string; reason: string; by: string }, cmd: Command) => {
      const { g, out } = ctx(cmd);
      return operate().silence(g, out, retailer, o);
    });

  program
    .command('unsilence <retailer>')
    .description("remove a retailer's silences (or one rule's)")
    .addOption(rule())
    .action((retailer: string, o: { rule?: string }, cmd: Command) => {
      const { g, out } = ctx(cmd);
      return operate().unsilence(g, out, retailer, o);
    });

  program
    .command('ack <incidentId>')
    .description('acknowledge an open incident (stops re-notification); answers once it is recorded')
    .option('--note <text>', 'what is being done about it')
    .addOption(by())
    .action((incidentId: string, o: { note?: string; by: string }, cmd: Command) => {
      const { g, out } = ctx(cmd);
      return operate().ack(g, out, incidentId, o);
    });

  program
    .command('thresholds')
    .description("change alert thresholds for one retailer (--retailer) or everyone's defaults")
    .option('--retailer <id>', 'only this retailer')
    .option('--failure-streak <n>', 'failures in a row that fire')
    .option('--stale-after <duration>', 'no success for this long fires (e.g. 4h)')
    .option('--sku-drop-pct <pct>', 'SKU count this % below the trailing average fires')
    .option('--sku-window <n>', 'successful runs in the trailing average')
    .option('--sku-min-samples <n>', 'runs needed before the SKU rule can fire')
    .option('--renotify-every <duration|off>', 're-notify open, unacknowledged incidents')
    .option('--timezone <iana>', "the retailer's timezone for same-weekday baselines (e.g. Africa/Johannesburg)")
    .addOption(new Option('--sku-rule <rule>', 'drop-pct: the SKU drop alone fires; drop-pct-and-robust: it must also be far from the robust baseline').choices(['drop-pct', 'drop-pct-and-robust']))
    .option('--robust-mads <n>', 'MADs from the robust baseline that count as far (robust SKU condition, promo_drop, run_duration)')
    .option('--promo-drop <on|off>', 'rule promo_drop (default off)')
    .option('--promo-drop-pct <pct>', 'promo_drop also needs the promo count this % below typical')
    .option('--run-duration <on|off>', 'rule run_duration (default on)')
    .option('--duration-rise-pct <pct>', 'run_duration also needs the run this % longer than typical')
    .option('--duration-min-rise <duration>', 'run_duration also needs the run this much longer than typical (e.g. 5m)')
    .option('--flap-count <n|off>', 'fires of one rule within --flap-window that make it flapping (held open as one incident); default 3')
    .option('--flap-window <duration>', 'window for --flap-count (default 1h)')
    .option('--flap-quiet <duration>', 'a flapping incident closes after this long without re-firing (default 30m)')
    .option('--missed-run-grace <duration|off>', "a Schedule's expected run not reported this long after it (plus its usual duration) fires missed_run (default 15m)")
    .action((o, cmd: Command) => {
      const { g, out } = ctx(cmd);
      return operate().thresholds(g, out, o);
    });

  const windows = program
    .command('maintenance')
    .description('recurring or one-off maintenance windows (per retailer or fleet-wide): alerts inside are recorded silenced, runs inside stay out of baselines');
  windows
    .command('add <spec...>')
    .description("add a window: 'every sunday 02:00-04:00 Africa/Johannesburg', 'every mon,thu 22:00-23:30 UTC', 'once 2026-12-24 18:00-23:00 Europe/London'")
    .option('--retailer <id>', 'only this retailer (default: fleet-wide)')
    .requiredOption('--reason <text>', 'why (shown in status and the audit trail)')
    .addOption(by())
    .action((spec: string[], o: { retailer?: string; reason: string; by: string }, cmd: Command) => {
      const { g, out } = ctx(cmd);
      return maintenance().add(g, out, spec, o);
    });
  windows
    .command('list')
    .description("the fleet-wide windows, or one retailer's (its own and the fleet's), active ones marked")
    .option('--retailer <id>', 'this retailer')
    .action((o: { retailer?: string }, cmd: Command) => {
      const { g, out } = ctx(cmd);
      return maintenance().list(g, out, o);
    });
  windows
    .command('remove <id>')
    .description('remove a window by id (checkers/action/7, fleet/action/3); incidents it kept quiet are announced')
    .option('--retailer <id>', 'the retailer it belongs to (default: named by the id)')
    .addOption(by())
    .action((id: string, o: { retailer?: string; by: string }, cmd: Command) => {
      const { g, out } = ctx(cmd);
      return maintenance().remove(g, out, id, o);
    });

  program
    .command('expect <retailer...>')
    .description("watch retailers before their first report (a retailer that never reports goes stale); --remove stops")
    .option('--remove', 'no longer expect these retailers')
    .addOption(by())
    .action((retailers: string[], o: { remove?: boolean; by: string }, cmd: Command) => {
      const { g, out } = ctx(cmd);
      return operate().expect(g, out, retailers, o);
    });

  program
    .command('report')
    .description("send a run report by hand and print the verdict (Update-with-Start: starts the retailer's monitor if needed)")
    .option('--retailer <id>', 'retailer slug')
    .option('--status <status>', 'success | failure')
    .option('--sku-count <n>', 'required for success')
    .option('--promo-count <n>')
    .option('--started-at <iso>', 'default: --finished-at')
    .option('--finished-at <iso>', 'default: now')
    .option('--error <text>', 'failure message')
    .option('--run-id <id>', 'default: manual-<timestamp>')
    .option('--schedule <id>')
    .option('--file <path>', "a JSON report (or array of reports); '-' reads stdin")
    .option('--task-queue <queue>', "the monitors' task queue, used if the retailer's monitor has to be started (MONITOR_TASK_QUEUE)", cfg.taskQueue)
    .action((o, cmd: Command) => {
      const { g, out } = ctx(cmd);
      return report().report(g, out, o);
    });

  const databaseUrl = cfg.databaseUrl;
  program
    .command('migrate')
    .description('apply database migrations')
    // The help shows the default with its password masked: `--help` output ends up in terminals and tickets.
    .addOption(new Option('--database-url <url>', 'Postgres URL (DATABASE_URL)').default(databaseUrl, redactUrl(databaseUrl)))
    .action((o: { databaseUrl: string }, cmd: Command) => migrate().migrate(ctx(cmd).out, o.databaseUrl));

  return program;
}

/** Parse and run; returns the exit code. Never throws and never prints a stack trace (DEBUG=1 shows it). */
export async function main(argv: string[] = process.argv): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed its message (or the help / version).
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const e = unexpected(err);
    // Whatever the error quotes (a URL, a driver message), credentials from the environment are masked.
    process.stderr.write(`error: ${redact(e.message)}\n`);
    if (process.env.DEBUG && err instanceof Error && err.stack) process.stderr.write(`${redact(err.stack)}\n`);
    return e.exitCode;
  }
}

/** `ingestion-monitor status --json | head` closes the pipe early; that is not an error worth a stack trace. */
export function exitQuietlyOnClosedPipe(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => process.exit(err.code === 'EPIPE' ? EXIT.ok : EXIT.unexpected));
}

if (require.main === module) {
  exitQuietlyOnClosedPipe();
  // exit() rather than exitCode: a stray handle (gRPC, pg) must not keep a finished command alive.
  void main().then((code) => process.exit(code));
}
