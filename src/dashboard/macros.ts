/**
 * Grafana's Postgres query pipeline, reproduced so the dashboard SQL can be run outside Grafana exactly as
 * Grafana runs it (by the SQL tests and by the built-in status page). Three stages, in Grafana's order:
 *
 * 1. Frontend template interpolation (`templateSrv.replace` with `SqlDatasource.interpolateVariable`):
 *    `$var`, `${var}`, `[[var]]`; multi-value or include-All variables become `'a','b'` with single quotes
 *    doubled; a single-value variable is only quote-doubled; All without a custom allValue means every
 *    option; `$__interval` / `$__interval_ms` come from the panel's computed interval.
 * 2. Backend global substitutions (`sqleng.Interpolate` in pkg/tsdb/grafana-postgresql-datasource/sqleng):
 *    `$__interval_ms`, `$__interval`, `$__unixEpochFrom()`, `$__unixEpochTo()`.
 * 3. The Postgres macro engine (`macros.go` in the same package): every `$name(args)` is a macro; unknown
 *    names are an error, as in Grafana.
 *
 * Not reproduced: the TimescaleDB variant of `$__timeGroup` (the datasource has `timescaledb: false`), and
 * the SQL-comment stripping that newer Grafana versions do before stage 3 — dashboard SQL carries no
 * comments (a test enforces it), so both Grafana behaviours give the same result.
 */

export interface TimeRange {
  from: Date;
  to: Date;
}

/** Grafana's internal value for "All" (`ALL_VARIABLE_VALUE`). */
export const ALL_VALUE = '$__all';

export interface VariableState {
  name: string;
  multi: boolean;
  includeAll: boolean;
  /** A custom All value is inserted raw (Grafana skips formatting for it). */
  allValue?: string;
  /** The options the variable query returned, in order. */
  options: string[];
  /** Selected value(s); `ALL_VALUE` (alone or in the array) selects every option. */
  current: string | string[];
}

export interface ExpandOptions {
  range: TimeRange;
  /** The panel interval, as Grafana computes it (see `grafanaIntervalMs`). */
  intervalMs: number;
  variables?: VariableState[];
  /** Reference time for calendar intervals ('1M', '1y') in `$__timeGroup`; defaults to the current time. */
  now?: Date;
}

/** Full pipeline: what the Postgres server receives when Grafana runs `sql`. */
export function expandGrafanaSql(sql: string, opts: ExpandOptions): string {
  const templated = interpolateTemplateVariables(sql, opts.variables ?? [], opts.intervalMs);
  const global = interpolateGlobalMacros(templated, opts.range, opts.intervalMs);
  return interpolatePostgresMacros(global, opts.range, opts.now ?? new Date());
}

// ---- stage 1: template variables ---------------------------------------------------------------

/** Grafana's `variableRegex` (public/app/features/variables/utils.ts). */
const VARIABLE_REGEX = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\${(\w+)(?:\.([^:^}]+))?(?::([^}]+))?}/g;

const quoteLiteral = (v: string) => `'${v.replace(/'/g, "''")}'`;

export function formatVariableValue(variable: VariableState): string {
  const selected = Array.isArray(variable.current) ? variable.current : [variable.current];
  if (selected.includes(ALL_VALUE)) {
    if (variable.allValue !== undefined) return variable.allValue;
    return variable.options.filter((o) => o !== ALL_VALUE).map(quoteLiteral).join(',');
  }
  if (Array.isArray(variable.current)) return variable.current.map(quoteLiteral).join(',');
  return variable.multi || variable.includeAll ? quoteLiteral(variable.current) : variable.current.replace(/'/g, "''");
}

export function interpolateTemplateVariables(sql: string, variables: VariableState[], intervalMs: number): string {
  const byName = new Map(variables.map((v) => [v.name, v]));
  const builtins: Record<string, string> = {
    __interval: formatInterval(intervalMs),
    __interval_ms: String(Math.trunc(intervalMs)),
  };
  return sql.replace(VARIABLE_REGEX, (match, v1?: string, v2?: string, fmt2?: string, v3?: string, path?: string, fmt3?: string) => {
    const name = (v1 ?? v2 ?? v3) as string;
    const variable = byName.get(name);
    const builtin = builtins[name];
    if (!variable && builtin === undefined) return match; // Grafana leaves unknown names (and macros) alone
    if (fmt2 ?? fmt3 ?? path) throw new Error(`variable format/field syntax is not supported here: ${match}`);
    return variable ? formatVariableValue(variable) : builtin;
  });
}

// ---- stage 2: sqleng.Interpolate ---------------------------------------------------------------

export function interpolateGlobalMacros(sql: string, range: TimeRange, intervalMs: number): string {
  return sql
    .split('$__interval_ms').join(String(Math.trunc(intervalMs)))
    .split('$__interval').join(formatInterval(intervalMs))
    .split('$__unixEpochFrom()').join(String(unixSeconds(range.from)))
    .split('$__unixEpochTo()').join(String(unixSeconds(range.to)));
}

// ---- stage 3: the Postgres macro engine ----------------------------------------------------------

const MACRO_REGEX = /\$([_a-zA-Z0-9]+)\(([^)]*)\)/g;

export function interpolatePostgresMacros(sql: string, range: TimeRange, now: Date = new Date()): string {
  let firstError: Error | undefined;
  const out = sql.replace(MACRO_REGEX, (whole: string, name: string, argText: string) => {
    let macro = name;
    // Grafana's pre-5.3 compatibility: `$__timeGroup(...)` directly followed by ',' gets the alias. Like
    // Grafana, it looks at the first occurrence of the same text in the original SQL.
    if (macro === '__timeGroup') {
      const at = sql.indexOf(whole);
      if (at >= 0 && sql[at + whole.length] === ',') macro = '__timeGroupAlias';
    }
    const args = argText.split(',').map((a) => trimSpaces(a));
    try {
      return evaluateMacro(macro, args, range, now);
    } catch (err) {
      firstError ??= err as Error;
      return 'macro_error()';
    }
  });
  if (firstError) throw firstError;
  return out;
}

function evaluateMacro(name: string, args: string[], range: TimeRange, now: Date): string {
  const column = () => {
    if (args.length === 0) throw new Error(`missing time column argument for macro ${name}`);
    return args[0];
  };
  switch (name) {
    case '__time':
      return `${column()} AS "time"`;
    case '__timeEpoch':
      return `extract(epoch from ${column()}) as "time"`;
    case '__timeFilter':
      return `${column()} BETWEEN '${rfc3339Nano(range.from)}' AND '${rfc3339Nano(range.to)}'`;
    case '__timeFrom':
      return `'${rfc3339Nano(range.from)}'`;
    case '__timeTo':
      return `'${rfc3339Nano(range.to)}'`;
    case '__timeGroup': {
      const s = groupSeconds(name, args, now);
      return `floor(extract(epoch from ${args[0]})/${s})*${s}`;
    }
    case '__timeGroupAlias':
      return `${evaluateMacro('__timeGroup', args, range, now)} AS "time"`;
    case '__unixEpochFilter':
      return `${column()} >= ${unixSeconds(range.from)} AND ${args[0]} <= ${unixSeconds(range.to)}`;
    case '__unixEpochNanoFilter':
      return `${column()} >= ${unixNanos(range.from)} AND ${args[0]} <= ${unixNanos(range.to)}`;
    case '__unixEpochNanoFrom':
      return String(unixNanos(range.from));
    case '__unixEpochNanoTo':
      return String(unixNanos(range.to));
    case '__unixEpochGroup': {
      const s = groupSeconds(name, args, now);
      return `floor((${args[0]})/${s})*${s}`;
    }
    case '__unixEpochGroupAlias':
      return `${evaluateMacro('__unixEpochGroup', args, range, now)} AS "time"`;
    default:
      throw new Error(`unknown macro "${name}"`);
  }
}

/** The interval of a group macro as Go's `%v` prints `interval.Seconds()`; validates the fill argument. */
function groupSeconds(name: string, args: string[], now: Date): string {
  if (args.length < 2) throw new Error(`macro ${name} needs time column and interval and optional fill value`);
  let ns: number;
  try {
    ns = parseGrafanaInterval(args[1].replace(/^'+|'+$/g, ''), now);
  } catch {
    throw new Error(`error parsing interval ${args[1]}`);
  }
  if (args.length === 3) validateFill(args[2]);
  return goFloat(durationSeconds(ns));
}

/** `sqleng.SetupFillmode`: NULL, previous, or a number. Fill only shapes Grafana's frames, not the SQL. */
function validateFill(fill: string): void {
  if (fill === 'NULL' || fill === 'previous') return;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(fill)) throw new Error(`error parsing fill value ${fill}`);
}

// ---- Go formatting and parsing, as Grafana's backend does it ---------------------------------------

/** Go's `strings.Trim(s, " ")`: spaces only, not tabs or newlines. */
const trimSpaces = (s: string) => s.replace(/^ +| +$/g, '');

/** Go `time.Time.UTC().Format(time.RFC3339Nano)`: fraction without trailing zeros, none when zero. */
export function rfc3339Nano(d: Date): string {
  const iso = d.toISOString();
  if (!/^\d{4}-/.test(iso)) throw new Error(`year out of range for RFC 3339: ${iso}`);
  return iso.replace(/\.(\d+)Z$/, (_m, frac: string) => {
    const trimmed = frac.replace(/0+$/, '');
    return trimmed ? `.${trimmed}Z` : 'Z';
  });
}

/** Go `Time.Unix()`: whole seconds, floored. */
const unixSeconds = (d: Date) => Math.floor(d.getTime() / 1000);
const unixNanos = (d: Date) => BigInt(d.getTime()) * 1_000_000n;

/** Go `Duration.Seconds()` for a duration in nanoseconds. */
function durationSeconds(ns: number): number {
  const sec = Math.trunc(ns / 1e9);
  return sec + (ns - sec * 1e9) / 1e9;
}

/**
 * Go's `%v` for a float64 (strconv 'g' with shortest precision): shortest round-trip digits, exponent form
 * when the decimal exponent is < -4 or >= 6 — so a 12-day group interval prints as `1.0368e+06`.
 */
export function goFloat(f: number): string {
  if (!Number.isFinite(f)) return Number.isNaN(f) ? 'NaN' : f > 0 ? '+Inf' : '-Inf';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const [mantissa, expText] = f.toExponential().split('e');
  const exp = Number(expText);
  if (exp < -4 || exp >= 6) {
    const sign = exp < 0 ? '-' : '+';
    const digits = String(Math.abs(exp)).padStart(2, '0');
    return `${mantissa}e${sign}${digits}`;
  }
  return fixedFromExponential(mantissa, exp);
}

function fixedFromExponential(mantissa: string, exp: number): string {
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const point = exp + 1; // digits before the decimal point
  let out: string;
  if (point <= 0) out = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) out = digits + '0'.repeat(point - digits.length);
  else out = `${digits.slice(0, point)}.${digits.slice(point)}`;
  return negative ? `-${out}` : out;
}

const NS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go `time.ParseDuration`, in nanoseconds. */
export function parseGoDuration(input: string): number {
  let s = input;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    sign = s.startsWith('-') ? -1 : 1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw new Error(`time: invalid duration "${input}"`);
  let total = 0;
  const part = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/;
  while (s) {
    const m = part.exec(s);
    if (!m || (m[1] === '' && (m[2] ?? '') === '')) throw new Error(`time: invalid duration "${input}"`);
    total += Number(`${m[1] || '0'}.${m[2] || '0'}`) * NS[m[3]];
    s = s.slice(m[0].length);
  }
  return sign * Math.round(total);
}

/** `gtime.ParseInterval`: Go durations plus calendar units d, w, M, y (relative to `now`, in UTC). */
export function parseGrafanaInterval(input: string, now: Date = new Date()): number {
  const m = /^(\d+)([dwMy])$/.exec(input);
  if (!m) return parseGoDuration(input);
  const n = Number(m[1]);
  const later = new Date(now.getTime());
  if (m[2] === 'd') later.setUTCDate(later.getUTCDate() + n);
  else if (m[2] === 'w') later.setUTCDate(later.getUTCDate() + 7 * n);
  else if (m[2] === 'M') later.setUTCMonth(later.getUTCMonth() + n);
  else later.setUTCFullYear(later.getUTCFullYear() + n);
  return (later.getTime() - now.getTime()) * 1e6;
}

/**
 * `gtime.FormatInterval` (backend) — for whole-unit intervals it agrees with the frontend's
 * `rangeUtil.secondsToHms`, which is what `$__interval` becomes in the panel SQL.
 */
export function formatInterval(ms: number): string {
  const units: Array<[number, string]> = [
    [365 * 86_400_000, 'y'],
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'm'],
    [1000, 's'],
    [1, 'ms'],
  ];
  for (const [size, unit] of units) if (ms >= size) return `${Math.floor(ms / size)}${unit}`;
  return '1ms';
}

/** Grafana's `roundInterval` (frontend rangeUtil and backend gtime share the table): [upper bound, result]. */
const ROUNDING: Array<[number, number]> = [
  [10, 1], [15, 10], [35, 20], [75, 50], [150, 100], [350, 200], [750, 500], [1500, 1000], [3500, 2000],
  [7500, 5000], [12_500, 10_000], [17_500, 15_000], [25_000, 20_000], [45_000, 30_000], [90_000, 60_000],
  [210_000, 120_000], [450_000, 300_000], [750_000, 600_000], [1_050_000, 900_000], [1_500_000, 1_200_000],
  [2_700_000, 1_800_000], [5_400_000, 3_600_000], [9_000_000, 7_200_000], [16_200_000, 10_800_000],
  [32_400_000, 21_600_000], [86_400_000, 43_200_000], [172_800_000, 86_400_000], [604_800_000, 86_400_000],
  [1_814_400_000, 604_800_000],
];

export function roundInterval(ms: number): number {
  for (const [bound, result] of ROUNDING) if (ms <= bound) return result;
  return ms < 3_628_800_000 ? 2_592_000_000 : 31_536_000_000;
}

/**
 * The panel interval Grafana would pick: range / max data points, rounded, but not below the datasource's
 * minimum interval (`jsonData.timeInterval`, which our provisioning sets to 1m — also Grafana's SQL default).
 */
export function grafanaIntervalMs(range: TimeRange, maxDataPoints = 1000, minIntervalMs = 60_000): number {
  const raw = roundInterval((range.to.getTime() - range.from.getTime()) / maxDataPoints);
  return Math.max(raw, minIntervalMs);
}
