/**
 * The command lines of Ordo's scripts (`npm run seed`, `user`, `migrate`, the benchmarks): each script
 * declares its options once, with their defaults and one line on what they do, and gets `--help` from
 * that. A mistake is answered with one line on stderr and exit code 2, before the script opens a
 * database: not a stack trace from parseArgs, and not a NaN the script runs with.
 *
 * `parseCommandLine` does the work and throws CliUsageError, so it can be tested; the scripts call
 * `commandLine`, which prints the help or the error and exits.
 */
import { parseArgs } from 'node:util';

export interface StringOption {
  type: 'string';
  description: string;
  /** The value when the option is not given, shown in the help. */
  default?: string;
  /** What the value is, in the help: `--orders <n>`. */
  value?: string;
}

/** A switch: false unless given. */
export interface BooleanOption {
  type: 'boolean';
  description: string;
}

export type OptionSpec = StringOption | BooleanOption;

export interface CommandSpec<O extends Record<string, OptionSpec>, P extends string = string> {
  /** The script's name, the first word of every message: `seed: unknown option --bogus`. */
  name: string;
  /** The usage line(s), printed after "Usage: ". */
  usage: string;
  /** A few lines on what the script does, printed under the usage. */
  about?: string;
  options: O;
  /** Names of the positional arguments, in order; a last name ending in "..." takes any number. None: positionals are refused. */
  positionals?: readonly P[];
}

export type Values<O extends Record<string, OptionSpec>> = {
  [K in keyof O]: O[K] extends { type: 'boolean' } ? boolean : O[K] extends { default: string } ? string : string | undefined;
};

export interface Limits {
  min?: number;
  max?: number;
  /** Exclusive lower bound: `above: 0` for a duration. */
  above?: number;
  /** The value when the option is not given and the spec has no default (one that depends on another option, say). */
  default?: number;
}

export interface CommandLine<O extends Record<string, OptionSpec>, P extends string = string> {
  values: Values<O>;
  positionals: string[];
  /** --help or -h was given; nothing else was checked. */
  help: boolean;
  /** A whole number, from an option or a named positional argument. `20_000` is read as 20000. */
  int(name: (keyof O & string) | P, limits?: Limits): number;
  /** A number, from an option or a named positional argument. */
  num(name: (keyof O & string) | P, limits?: Limits): number;
  /** A comma-separated list of whole numbers: `--workers 1,2`. */
  ints(name: keyof O & string, limits?: Limits): number[];
  /** One of a few words: `--roles split|all`. */
  choice<C extends string>(name: keyof O & string, choices: readonly C[]): C;
  /** A comma-separated list of some of a few words: `--phases engine,tpcb`. */
  choices<C extends string>(name: keyof O & string, choices: readonly C[]): C[];
  /** Refuse the command line with this message (one line), as a wrong option is refused. */
  fail(message: string): never;
}

/** A command line the script cannot run with; the message is one line, without the script's name. */
export class CliUsageError extends Error {
  override name = 'CliUsageError';
}

const throwUsageError = (message: string): never => {
  throw new CliUsageError(message);
};

const SEE_HELP = '(see --help)';

/**
 * Read `argv` by `spec`. Mistakes go to `fail`, which must not return (it throws CliUsageError unless
 * given); the readers of the result report bad values through it too.
 */
export function parseCommandLine<const O extends Record<string, OptionSpec>, const P extends string = never>(
  spec: CommandSpec<O, P>,
  argv: readonly string[],
  fail: (message: string) => never = throwUsageError,
): CommandLine<O, P> {
  const known = new Set(['help', ...Object.keys(spec.options)]);
  // Not strict: parseArgs' own errors are stack traces with a paragraph of advice, and it refuses any
  // value starting with a dash (`--node-options --max-semi-space-size=8`). The tokens are checked below.
  const { values: raw, positionals, tokens } = parseArgs({
    args: [...argv],
    options: { ...Object.fromEntries(Object.entries(spec.options).map(([name, o]) => [name, { type: o.type }])), help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  const help = tokens.some((t) => t.kind === 'option' && t.name === 'help');

  const names = spec.positionals ?? [];
  const takesRest = names.at(-1)?.endsWith('...') ?? false;
  const looksLikeOption = (value: string) => value === '--' || value === '-h' || (value.startsWith('--') && known.has(value.slice(2).split('=')[0]!));
  if (!help) {
    for (const token of tokens) {
      if (token.kind === 'option') {
        const option = Object.hasOwn(spec.options, token.name) ? spec.options[token.name] : undefined;
        if (!option) fail(`unknown option ${token.rawName} ${SEE_HELP}`);
        else if (option.type === 'boolean' && token.value !== undefined) fail(`${token.rawName} takes no value, got "${token.value}" ${SEE_HELP}`);
        // `--orders --runs 3`: the next option taken for the value is a forgotten value, not a value.
        else if (option.type === 'string' && (token.value === undefined || (!token.inlineValue && looksLikeOption(token.value)))) fail(`${token.rawName} needs a value ${SEE_HELP}`);
      }
    }
    const allowed = takesRest ? Infinity : names.length;
    if (positionals.length > allowed) fail(`unexpected argument "${positionals[allowed]}" ${SEE_HELP}`);
  }

  const values = Object.fromEntries(
    Object.entries(spec.options).map(([name, o]) => [name, o.type === 'boolean' ? raw[name] === true : typeof raw[name] === 'string' ? raw[name] : o.default]),
  ) as Values<O>;

  /** The text of an option or a named positional, and how messages call it. */
  const read = (name: string): { label: string; text: string | undefined } => {
    if (Object.hasOwn(spec.options, name)) return { label: `--${name}`, text: (values as Record<string, string | boolean | undefined>)[name] as string | undefined };
    const index = (names as readonly string[]).indexOf(name);
    if (index < 0) throw new Error(`${spec.name}: no option or argument named ${name}`);
    return { label: name, text: positionals[index] };
  };

  const number = (name: string, limits: Limits, whole: boolean): number => {
    const { label, text } = read(name);
    if (text === undefined) {
      if (limits.default === undefined) throw new Error(`${spec.name}: ${label} has no default`);
      return limits.default;
    }
    const value = parseNumber(text);
    if (value === null || (whole && !Number.isSafeInteger(value)) || !within(value, limits)) {
      fail(`${label} must be ${whole ? 'a whole number' : 'a number'}${describeLimits(limits)}, got "${text}"`);
    }
    return value!;
  };

  /** The text of an option the script reads as a list or a word; those all have a default. */
  const given = (name: string): string => {
    const { text } = read(name);
    if (text === undefined) throw new Error(`${spec.name}: --${name} has no default`);
    return text;
  };

  return {
    values,
    positionals,
    help,
    int: (name, limits = {}) => number(name, limits, true),
    num: (name, limits = {}) => number(name, limits, false),
    ints(name, limits = {}) {
      const text = given(name);
      const list = text.split(',').map(parseNumber);
      if (!list.every((v): v is number => v !== null && Number.isSafeInteger(v) && within(v, limits))) {
        fail(`--${name} must be a comma-separated list of whole numbers${describeLimits(limits)}, got "${text}"`);
      }
      return list as number[];
    },
    choice(name, choices) {
      const text = given(name);
      if (!choices.includes(text as never)) fail(`--${name} must be one of ${choices.join(', ')}, got "${text}"`);
      return text as (typeof choices)[number];
    },
    choices(name, choices) {
      const text = given(name);
      const list = text.split(',');
      if (!list.every((w) => choices.includes(w as never))) fail(`--${name} must be a comma-separated list of ${choices.join(', ')}, got "${text}"`);
      return list as (typeof choices)[number][];
    },
    fail,
  };
}

/** `20000`, `20_000`, `0.2`, `1e6`: digits, not whatever Number() accepts (`0x10`, `''`, `Infinity`). */
function parseNumber(text: string): number | null {
  if (!/^[+-]?(?=\.?\d)(\d+(_\d+)*)?(\.\d+(_\d+)*)?(e[+-]?\d+)?$/i.test(text)) return null;
  const value = Number(text.replaceAll('_', ''));
  return Number.isFinite(value) ? value : null;
}

function within(value: number, limits: Limits): boolean {
  return (limits.min === undefined || value >= limits.min) && (limits.max === undefined || value <= limits.max) && (limits.above === undefined || value > limits.above);
}

function describeLimits(limits: Limits): string {
  if (limits.min !== undefined && limits.max !== undefined) return ` from ${limits.min} to ${limits.max}`;
  const bounds = [limits.above !== undefined ? `> ${limits.above}` : null, limits.min !== undefined ? `≥ ${limits.min}` : null, limits.max !== undefined ? `≤ ${limits.max}` : null];
  const text = bounds.filter((b) => b !== null).join(' and ');
  return text ? ` ${text}` : '';
}

/** The text `--help` prints: the usage, what the script does, one line per option with its default. */
export function helpText(spec: CommandSpec<Record<string, OptionSpec>, string>): string {
  const rows = Object.entries(spec.options).map(([name, o]) => {
    const flag = o.type === 'string' ? `--${name} <${o.value ?? 'value'}>` : `--${name}`;
    const fallback = o.type === 'string' && o.default ? ` (default ${o.default})` : '';
    return [flag, o.description + fallback] as const;
  });
  rows.push(['-h, --help', 'print this help and exit']);
  const width = Math.min(28, Math.max(...rows.map(([flag]) => flag.length)));
  const lines = rows.map(([flag, text]) => (flag.length > width ? `  ${flag}\n  ${' '.repeat(width)}  ${text}` : `  ${flag.padEnd(width)}  ${text}`));
  return [`Usage: ${spec.usage}`, ...(spec.about ? ['', spec.about] : []), '', 'Options:', ...lines].join('\n') + '\n';
}

/**
 * The script's command line, from process.argv: `--help` prints the help and exits 0; a mistake, here or
 * in a reader of the result later, prints one line to stderr and exits 2.
 */
export function commandLine<const O extends Record<string, OptionSpec>, const P extends string = never>(
  spec: CommandSpec<O, P>,
  argv: readonly string[] = process.argv.slice(2),
): CommandLine<O, P> {
  const fail = (message: string): never => {
    process.stderr.write(`${spec.name}: ${message}\n`);
    process.exit(2);
  };
  const line = parseCommandLine(spec, argv, fail);
  if (line.help) {
    process.stdout.write(helpText(spec));
    process.exit(0);
  }
  return line;
}
