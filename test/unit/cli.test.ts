import { describe, expect, it } from 'vitest';
import { CliUsageError, helpText, parseCommandLine } from '../../scripts/cli.ts';

const SPEC = {
  name: 'seed',
  usage: 'npm run seed -- [options]',
  about: 'Fills the database with realistic orders.',
  options: {
    orders: { type: 'string', default: '10000', value: 'n', description: 'orders to make' },
    'defect-rate': { type: 'string', default: '0.1', value: 'share', description: 'share of the orders with a defect' },
    warmup: { type: 'string', value: 'n', description: 'untimed orders first (default 10000; 100 with --quick)' },
    workers: { type: 'string', default: '1,2', description: 'worker process counts to compare' },
    roles: { type: 'string', default: 'split', description: 'split or all' },
    template: { type: 'string', description: 'copy this database' },
    quick: { type: 'boolean', description: 'small sizes' },
  },
} as const;

const parse = (...argv: string[]) => parseCommandLine(SPEC, argv);

/** The CliUsageError's message parsing `argv` throws, or a reader of its result. */
function refusal(read: () => unknown): string {
  try {
    read();
  } catch (err) {
    expect(err).toBeInstanceOf(CliUsageError);
    return (err as Error).message;
  }
  throw new Error('not refused');
}

describe('parseCommandLine', () => {
  it('reads options in both forms, and the defaults of those not given', () => {
    const line = parse('--orders', '20_000', '--defect-rate=0.25', '--quick', '--template', 'ordo');
    expect(line.help).toBe(false);
    expect(line.values).toEqual({ orders: '20_000', 'defect-rate': '0.25', warmup: undefined, workers: '1,2', roles: 'split', template: 'ordo', quick: true });
    expect(line.int('orders', { min: 1 })).toBe(20_000);
    expect(line.num('defect-rate', { min: 0, max: 1 })).toBe(0.25);
    expect(line.positionals).toEqual([]);
  });

  it('takes the defaults when nothing is given; a reader default stands in for an option without one', () => {
    const line = parse();
    expect(line.values.quick).toBe(false);
    expect(line.int('orders', { min: 1 })).toBe(10_000);
    expect(line.int('warmup', { min: 0, default: line.values.quick ? 100 : 10_000 })).toBe(10_000);
    expect(line.ints('workers', { min: 1 })).toEqual([1, 2]);
    expect(line.choice('roles', ['split', 'all'])).toBe('split');
    expect(parse('--warmup', '0').int('warmup', { min: 0, default: 5 })).toBe(0);
  });

  it('accepts a value starting with a dash when it is not one of the options', () => {
    expect(parse('--template', '--max-semi-space-size=8').values.template).toBe('--max-semi-space-size=8');
  });

  it('prints a help with the usage, every option with its default, and --help itself', () => {
    expect(parse('--help').help).toBe(true);
    expect(parse('--orders', 'abc', '-h', '--bogus').help).toBe(true);
    const text = helpText(SPEC);
    const lines = text.split('\n');
    expect(lines[0]).toBe('Usage: npm run seed -- [options]');
    expect(text).toContain('Fills the database with realistic orders.');
    const line = (flag: string) => lines.find((l) => l.startsWith(`  ${flag}`));
    expect(line('--orders')).toMatch(/^ {2}--orders <n> +orders to make \(default 10000\)$/);
    expect(line('--defect-rate')).toMatch(/share of the orders with a defect \(default 0\.1\)$/);
    expect(line('--quick')).toMatch(/^ {2}--quick +small sizes$/);
    expect(line('--template')).toMatch(/copy this database$/);
    expect(text).toMatch(/-h, --help +print this help and exit/);
  });

  it('refuses an unknown option, a missing value and a stray argument with one line naming it', () => {
    expect(refusal(() => parse('--bogus'))).toBe('unknown option --bogus (see --help)');
    expect(refusal(() => parse('-x'))).toBe('unknown option -x (see --help)');
    expect(refusal(() => parse('--constructor'))).toBe('unknown option --constructor (see --help)');
    expect(refusal(() => parse('--orders'))).toBe('--orders needs a value (see --help)');
    expect(refusal(() => parse('--orders', '--quick'))).toBe('--orders needs a value (see --help)');
    expect(refusal(() => parse('--quick=yes'))).toBe('--quick takes no value, got "yes" (see --help)');
    expect(refusal(() => parse('extra'))).toBe('unexpected argument "extra" (see --help)');
    expect(refusal(() => parse('--orders', '5', '--', '--bogus'))).toBe('unexpected argument "--bogus" (see --help)');
  });

  it('refuses what is not a number, a fraction for a whole number and a value out of range', () => {
    expect(refusal(() => parse('--orders', 'abc').int('orders', { min: 1 }))).toBe('--orders must be a whole number ≥ 1, got "abc"');
    expect(refusal(() => parse('--orders', '1.5').int('orders', { min: 1 }))).toBe('--orders must be a whole number ≥ 1, got "1.5"');
    expect(refusal(() => parse('--orders', '0').int('orders', { min: 1 }))).toBe('--orders must be a whole number ≥ 1, got "0"');
    expect(refusal(() => parse('--orders', '').int('orders', { min: 1 }))).toBe('--orders must be a whole number ≥ 1, got ""');
    expect(refusal(() => parse('--orders', '0x10').int('orders'))).toBe('--orders must be a whole number, got "0x10"');
    expect(refusal(() => parse('--defect-rate', '1.5').num('defect-rate', { min: 0, max: 1 }))).toBe('--defect-rate must be a number from 0 to 1, got "1.5"');
    expect(refusal(() => parse('--defect-rate', 'Infinity').num('defect-rate', { min: 0 }))).toBe('--defect-rate must be a number ≥ 0, got "Infinity"');
    expect(refusal(() => parse('--warmup', '0').num('warmup', { above: 0 }))).toBe('--warmup must be a number > 0, got "0"');
    expect(refusal(() => parse('--workers', '1,x').ints('workers', { min: 1 }))).toBe('--workers must be a comma-separated list of whole numbers ≥ 1, got "1,x"');
    expect(refusal(() => parse('--roles', 'both').choice('roles', ['split', 'all']))).toBe('--roles must be one of split, all, got "both"');
    expect(refusal(() => parse('--roles', 'split,bogus').choices('roles', ['split', 'all']))).toBe('--roles must be a comma-separated list of split, all, got "split,bogus"');
  });

  it('reads numbers as people write them', () => {
    const int = (text: string) => parse('--orders', text).int('orders');
    expect(int('20000')).toBe(20_000);
    expect(int('20_000')).toBe(20_000);
    expect(int('1e6')).toBe(1_000_000);
    expect(int('-3')).toBe(-3);
    expect(parse('--defect-rate', '.5').num('defect-rate')).toBe(0.5);
  });

  it('reads named positional arguments, and refuses more than are named', () => {
    const spec = { name: 'bench:checks', usage: 'bench:checks [orders] [rounds]', options: {}, positionals: ['orders', 'rounds'] } as const;
    const line = parseCommandLine(spec, ['500']);
    expect(line.int('orders', { min: 1, default: 3000 })).toBe(500);
    expect(line.int('rounds', { min: 1, default: 7 })).toBe(7);
    expect(refusal(() => parseCommandLine(spec, ['abc']).int('orders', { min: 1 }))).toBe('orders must be a whole number ≥ 1, got "abc"');
    expect(refusal(() => parseCommandLine(spec, ['1', '2', '3']))).toBe('unexpected argument "3" (see --help)');
    const rest = { name: 'bench:ab', usage: 'bench:ab [-- options…]', options: { pairs: { type: 'string', default: '3', description: 'pairs' } }, positionals: ['benchmark option...'] } as const;
    expect(parseCommandLine(rest, ['--pairs', '1', '--', '--phases', 'engine', '--orders', '30']).positionals).toEqual(['--phases', 'engine', '--orders', '30']);
  });

  it('hands its own refusals to the given fail, which the scripts make print and exit', () => {
    const messages: string[] = [];
    const fail = (message: string): never => {
      messages.push(message);
      throw new Error('stop');
    };
    expect(() => parseCommandLine(SPEC, ['--bogus'], fail)).toThrow('stop');
    expect(() => parseCommandLine(SPEC, ['--orders', 'x'], fail).int('orders')).toThrow('stop');
    expect(() => parseCommandLine(SPEC, []).fail('--base is required')).toThrow(CliUsageError);
    expect(messages).toEqual(['unknown option --bogus (see --help)', '--orders must be a whole number, got "x"']);
  });
});
