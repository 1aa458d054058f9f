import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/**
 * The scripts as an operator runs them, with a mistake on the command line: one line on stderr naming
 * it and exit code 2, or the help and 0. DATABASE_URL points at a port nothing listens on, so a script
 * that opened its database before checking its options would fail with ECONNREFUSED instead; no
 * PostgreSQL is needed, which is why this runs with the unit tests.
 */
const ROOT = path.resolve(import.meta.dirname, '..', '..');
const run = promisify(execFile);

async function script(file: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', file, ...args], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: 'postgres://ordo@127.0.0.1:9/nothing-listens-here', LOG_LEVEL: 'warn' },
      timeout: 50_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const REFUSALS = [
  { file: 'scripts/seed.ts', args: ['--bogus'], line: 'seed: unknown option --bogus (see --help)' },
  { file: 'scripts/user.ts', args: ['--bogus'], line: 'user: unknown option --bogus (see --help)' },
  { file: 'scripts/user.ts', args: ['create', 'anna@shop.example', '--role'], line: 'user: --role needs a value (see --help)' },
  { file: 'scripts/migrate.ts', args: ['--bogus'], line: 'migrate: unknown option --bogus (see --help)' },
  { file: 'scripts/bench/engine.ts', args: ['--orders', 'abc'], line: 'bench:engine: --orders must be a whole number ≥ 1, got "abc"' },
  { file: 'scripts/bench/checks.ts', args: ['--bogus'], line: 'bench:checks: unknown option --bogus (see --help)' },
  { file: 'scripts/bench/http.ts', args: ['--defect-rate', '1.5'], line: 'bench:http: --defect-rate must be a number from 0 to 1, got "1.5"' },
  { file: 'scripts/bench/ab.ts', args: ['--base', 'HEAD', '--pairs', '0'], line: 'bench:ab: --pairs must be a whole number ≥ 1, got "0"' },
];

describe('the scripts refuse a wrong command line before they open a database', () => {
  it.concurrent.each(REFUSALS.map((r) => ({ ...r, command: [r.file, ...r.args].join(' ') })))('$command', { timeout: 60_000 }, async ({ file, args, line }) => {
    const { code, stdout, stderr } = await script(file, ...args);
    expect(stderr).toBe(`${line}\n`);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).not.toMatch(/^\s+at |TypeError|ECONNREFUSED/m);
  });

  it.concurrent('--help prints the usage and every option with its default, and exits 0', { timeout: 60_000 }, async () => {
    const [checks, seed] = await Promise.all([script('scripts/bench/checks.ts', '--help'), script('scripts/seed.ts', '-h')]);
    expect(checks).toMatchObject({ code: 0, stderr: '' });
    expect(checks.stdout).toMatch(/^Usage: npm run bench:checks -- \[orders\] \[rounds\]\n/);
    expect(checks.stdout).toMatch(/^ {2}-h, --help +print this help and exit$/m);
    expect(seed).toMatchObject({ code: 0, stderr: '' });
    expect(seed.stdout).toMatch(/^ {2}--orders <n> +orders to make \(default 10000\)$/m);
    expect(seed.stdout).toMatch(/^ {2}--defect-rate <0\.\.1> +.*\(default 0\.1\)$/m);
    expect(seed.stdout).toMatch(/^ {2}--no-vacuum +/m);
  });
});
