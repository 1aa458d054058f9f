/**
 * `npm run bench:ab -- --base <commit> [--pairs 3] [--bench engine|http] [-- <the benchmark's own options>]`
 *
 * Is a change faster? The same benchmark run on two versions of Ordo, interleaved: the `--base` commit
 * (checked out in a temporary git worktree that shares this checkout's node_modules) and this working
 * tree as it is, uncommitted changes included. This machine's speed drifts by more than most changes
 * are worth within minutes, so single runs of each mislead; runs alternate base/current, current/base
 * in pairs (an even number of pairs cancels a steady drift) and the medians are compared.
 *
 * `--bench engine` (default) runs `scripts/bench/engine.ts --phases engine --orders 20000` with Ordo's
 * node flags; `--bench http` runs `scripts/bench/http.ts --orders 5000 --runs 1 --healthz-seconds 0.5
 * --tpcb-seconds 1`. Options after `--` replace those defaults. Each run keeps the benchmark's own
 * warm-up. Figures per run: orders/s and the CPU per order of Ordo's processes and PostgreSQL, from the
 * benchmark's RESULT and DETAIL lines. The last line:
 *   RESULT ab_base_per_s=… ab_current_per_s=… ab_ratio=…
 * (medians; ratio = current / base).
 */
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { commandLine } from '../cli.ts';
import { describeMachine, fmt, loadAverage, median, medianOf, ordoNodeFlags, parseResultLines, REPO_ROOT, resultLine } from './common.ts';

const cli = commandLine({
  name: 'bench:ab',
  usage: 'npm run bench:ab -- --base <commit> [options] [-- <the benchmark\'s own options>]',
  about: 'The same benchmark on the --base commit and on this working tree, in interleaved pairs; the medians compared.',
  options: {
    base: { type: 'string', value: 'commit', description: 'the commit to compare this working tree with (required)' },
    pairs: { type: 'string', default: '3', value: 'n', description: 'pairs of runs, base and current, alternating which goes first' },
    bench: { type: 'string', default: 'engine', value: 'engine|http', description: 'the benchmark; options after -- replace its defaults' },
  },
  positionals: ['benchmark option...'],
});
const args = cli.values;
const positionals = cli.positionals;

interface Bench {
  script: string;
  nodeFlags: string[];
  defaults: string[];
  /** RESULT/DETAIL keys: the rate, then the CPU figures shown beside it. */
  rate: string;
  cpu: Array<{ key: string; label: string }>;
  /** Figures read from the human lines of versions that did not print them as DETAIL yet. */
  older?: (output: string) => Record<string, string>;
}

const BENCHES: Record<string, Bench> = {
  engine: {
    script: 'scripts/bench/engine.ts',
    nodeFlags: ordoNodeFlags('all'),
    defaults: ['--phases', 'engine', '--orders', '20000'],
    rate: 'engine_per_s',
    cpu: [
      { key: 'node_cpu_ms_per_order', label: 'Node' },
      { key: 'pg_cpu_ms_per_order', label: 'PostgreSQL' },
    ],
    older: (output): Record<string, string> => {
      const m = /CPU ([\d.]+) ms in Node \+ ([\d.]+) ms in PostgreSQL/.exec(output);
      return m ? { node_cpu_ms_per_order: m[1]!, pg_cpu_ms_per_order: m[2]! } : {};
    },
  },
  http: {
    script: 'scripts/bench/http.ts',
    nodeFlags: [],
    defaults: ['--orders', '5000', '--runs', '1', '--healthz-seconds', '0.5', '--tpcb-seconds', '1'],
    rate: 'http_orders_per_s',
    cpu: [
      { key: 'web_cpu_ms_per_order', label: 'web' },
      { key: 'pg_cpu_ms_per_order', label: 'PostgreSQL' },
    ],
  },
};

const git = (...a: string[]) => execFileSync('git', a, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();

interface Run {
  side: 'base' | 'current';
  rate: number;
  cpu: number[];
}

function runOnce(dir: string, bench: Bench, benchArgs: string[]): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...bench.nodeFlags, '--import', 'tsx', bench.script, ...benchArgs], {
      cwd: dir,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${bench.script} in ${dir} exited with ${code}:\n${output.slice(-3000)}`));
      resolve({ ...bench.older?.(output), ...parseResultLines(output, 'DETAIL'), ...parseResultLines(output) });
    });
  });
}

/**
 * The engine benchmark's versions before `--process` ran only the default lifecycle, the diagram that
 * `--process lifecycle` names now: against such a base the current side runs the lifecycle too.
 */
function sideArgs(bench: Bench, baseSha: string, benchArgs: string[]): { base: string[]; current: string[] } {
  if (bench.script !== BENCHES.engine!.script || git('show', `${baseSha}:${bench.script}`).includes('\n    process: {')) return { base: benchArgs, current: benchArgs };
  const at = benchArgs.indexOf('--process');
  if (at < 0) return { base: benchArgs, current: [...benchArgs, '--process', 'lifecycle'] };
  if (benchArgs[at + 1] !== 'lifecycle') throw new Error(`the base ${baseSha.slice(0, 7)} runs only the default lifecycle: compare with --process lifecycle`);
  return { base: benchArgs.filter((_, i) => i !== at && i !== at + 1), current: benchArgs };
}

async function main(): Promise<void> {
  const bench = BENCHES[cli.choice('bench', Object.keys(BENCHES))]!;
  const baseRef = args.base || cli.fail('--base <commit> is required: the version to compare this working tree with');
  const pairs = cli.int('pairs', { min: 1 });
  const benchArgs = positionals.length > 0 ? positionals : bench.defaults;

  let baseSha: string;
  try {
    baseSha = git('rev-parse', '--verify', '--quiet', `${baseRef}^{commit}`);
  } catch {
    throw new Error(`--base ${baseRef} is not a commit in ${REPO_ROOT}`);
  }
  const head = git('rev-parse', '--short', 'HEAD');
  const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
  const baseLabel = baseSha.slice(0, 7);
  const currentLabel = `${head}${dirty ? ' + uncommitted changes' : ''}`;

  const worktree = mkdtempSync(path.join(os.tmpdir(), 'ordo-ab-'));
  git('worktree', 'add', '--detach', '--quiet', worktree, baseSha);
  const removeWorktree = () => {
    git('worktree', 'remove', '--force', worktree);
    rmSync(worktree, { recursive: true, force: true });
  };
  // Ctrl-C stops the running benchmark too (same process group); the worktree goes with it.
  const interrupted = (signal: NodeJS.Signals) => {
    removeWorktree();
    console.error(`bench:ab: ${signal}, stopped; ${worktree} removed`);
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    if (!existsSync(path.join(worktree, 'node_modules'))) symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(worktree, 'node_modules'));
    console.log(describeMachine());
    console.log(`${args.bench}: ${bench.script} ${benchArgs.join(' ')}`);
    console.log(`base ${baseLabel} (${worktree}) against current ${currentLabel}, ${pairs} pair(s), alternating which goes first\n`);

    const { base: baseArgs, current: currentArgs } = sideArgs(bench, baseSha, benchArgs);
    const runs: Run[] = [];
    for (let p = 0; p < pairs; p++) {
      const order: Array<Run['side']> = p % 2 === 0 ? ['base', 'current'] : ['current', 'base'];
      for (const side of order) {
        const figures = await runOnce(side === 'base' ? worktree : REPO_ROOT, bench, side === 'base' ? baseArgs : currentArgs);
        const rate = Number(figures[bench.rate]);
        if (!Number.isFinite(rate)) throw new Error(`the ${side} run printed no ${bench.rate}`);
        const cpu = bench.cpu.map((c) => Number(figures[c.key]));
        runs.push({ side, rate, cpu });
        const cpuText = bench.cpu.map((c, i) => `${c.label} ${Number.isFinite(cpu[i]) ? fmt(cpu[i]!, 2) : 'n/a'}`).join(', ');
        console.log(`pair ${p + 1} ${side.padEnd(7)} ${fmt(rate).padStart(6)} orders/s; CPU ms per order: ${cpuText} (load ${loadAverage()})`);
      }
    }

    const of = (side: Run['side']) => runs.filter((r) => r.side === side);
    const summary = (side: Run['side'], label: string) => {
      const list = of(side);
      const cpu = bench.cpu.map((c, i) => `${c.label} ${medianOf(list.map((r) => r.cpu[i]!), 2)}`).join(', ');
      return `  ${side.padEnd(7)} ${label}: ${list.map((r) => fmt(r.rate)).join(', ')} → median ${fmt(median(list.map((r) => r.rate)))} orders/s; CPU ms per order ${cpu}`;
    };
    const base = median(of('base').map((r) => r.rate));
    const current = median(of('current').map((r) => r.rate));
    console.log('\nmedians:');
    console.log(summary('base', baseLabel));
    console.log(summary('current', currentLabel));
    console.log(resultLine({ ab_base_per_s: fmt(base), ab_current_per_s: fmt(current), ab_ratio: fmt(current / base, 3) }));
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    removeWorktree();
  }
}

try {
  await main();
} catch (err) {
  console.error(`bench:ab: ${(err as Error).message}`);
  process.exit(1);
}
