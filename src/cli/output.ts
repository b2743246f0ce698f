/**
 * What every command shares and --help needs too: the global options and the output (human or --json).
 * Kept apart from ./context (the Temporal client), so that building the command line loads no client.
 */
export interface GlobalOptions {
  /** The fleet workflow's id; retailer monitors are `ingestion-monitor/<retailer>`. */
  workflowId: string;
  /** Retailer monitors are `<prefix><retailer>` (MONITOR_RETAILER_ID_PREFIX). */
  retailerPrefix?: string;
  json?: boolean;
  address?: string;
  namespace?: string;
}

export class Output {
  constructor(
    readonly json: boolean,
    /** Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org). */
    readonly colour = !json && !!process.stdout.isTTY && !process.env.NO_COLOR,
  ) {}

  /** Print the human text, or the machine value with --json. */
  result(human: string | (() => string), machine: unknown): void {
    process.stdout.write(`${this.json ? JSON.stringify(machine, null, 2) : typeof human === 'function' ? human() : human}\n`);
  }
}
