/**
 * `npm run bench -- [--quick] [--runs N] [--only engine,http,scale,console]
 *                  [--engine-orders 5000] [--http-orders 3000] [--scale-orders 3000]`
 *
 * Every figure of docs/PERFORMANCE.md with its baseline, in one process tree and one run: each benchmark
 * runs as a child process, one after the other (they would only measure each other on two cores), on its
 * own throwaway PostgreSQL (or DATABASE_URL's server):
 *
 * 1. engine   scripts/bench/engine.ts     orders/s through the default lifecycle vs TPC-B and bpmn-engine
 * 2. http     scripts/bench/http.ts       orders/s through POST /orders (autocannon, 16 connections) until
 *                                         settled, p50/p99, vs GET /healthz and TPC-B; web and worker RSS
 * 3. scale    scripts/bench/scale-out.ts  1 vs 2 worker processes on the same queued orders
 * 4. console  scripts/bench/console.ts    the console's pages at scale, when that benchmark exists
 *
 * Each child prints its own progress and ends with `RESULT name=value …`; they are collected and printed
 * together at the end. `--runs` and `--quick` are passed to every child (each takes its median over the
 * runs; `--quick` makes N small: a check that everything runs, not figures to quote). Without `--runs`,
 * every benchmark runs 3 times, with smaller N than each benchmark's own default so the whole stays
 * under 20 minutes: the engine with 5,000 orders and 300 bpmn-engine instances, HTTP and scale-out with
 * 3,000 orders each. That takes about 12 minutes on the quiet 2-core machine and 20–25 while other test
 * suites keep its load average at 6–9 (docs/PERFORMANCE.md); `--quick` about 2.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { commandLine } from '../cli.ts';
import { describeMachine, fmt, loadAverage, ordoNodeFlags, REPO_ROOT } from './common.ts';

const cli = commandLine({
  name: 'bench',
  usage: 'npm run bench -- [options]',
  about: 'Every benchmark of docs/PERFORMANCE.md, one after the other, each as a child process; their RESULT lines together at the end.',
  options: {
    quick: { type: 'boolean', description: "each benchmark's own small sizes: a check that everything runs, not figures to quote" },
    runs: { type: 'string', value: 'n', description: 'runs of each benchmark (default 3; 1 with --quick)' },
    only: { type: 'string', default: 'engine,http,scale,console', value: 'list', description: 'the benchmarks to run, comma-separated' },
    'engine-orders': { type: 'string', default: '5000', value: 'n', description: 'orders per run of bench:engine, unless --quick' },
    'http-orders': { type: 'string', default: '3000', value: 'n', description: 'orders per run of bench:http, unless --quick' },
    'scale-orders': { type: 'string', default: '3000', value: 'n', description: 'orders per run of bench:scale, unless --quick' },
  },
});
const args = cli.values;
const RUNS = String(cli.int('runs', { min: 1, default: args.quick ? 1 : 3 }));
const ONLY = new Set(cli.choices('only', ['engine', 'http', 'scale', 'console']));
const SIZES = {
  engine: String(cli.int('engine-orders', { min: 1 })),
  http: String(cli.int('http-orders', { min: 1 })),
  scale: String(cli.int('scale-orders', { min: 1 })),
};

interface Bench {
  name: string;
  /** The command, or why it is skipped. */
  command: { file: string; args: string[]; fixed?: string[] } | { skip: string };
  /** Sizes for a full run (`--quick` leaves them to the benchmark's own quick sizes). */
  sizes?: string[];
}

function nodeScript(file: string, nodeFlags: string[] = []): Bench['command'] {
  return { file: process.execPath, args: [...nodeFlags, '--import', 'tsx', file] };
}

/** The console benchmark is written on another branch: run it only when this tree has it. */
function consoleCommand(): Bench['command'] {
  const script = path.join(REPO_ROOT, 'scripts/bench/console.ts');
  if (existsSync(script)) return nodeScript('scripts/bench/console.ts');
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  if (pkg.scripts?.['bench:console']) return { file: 'npm', args: ['run', '--silent', 'bench:console', '--'] };
  return { skip: 'scripts/bench/console.ts is not in this tree (nor a bench:console script); the console figures are skipped' };
}

const BENCHES: Bench[] = [
  // Issue 8's engine figure: the whole default lifecycle (bench:engine's own default is issue 4's three checks).
  { name: 'engine', command: { ...nodeScript('scripts/bench/engine.ts', ordoNodeFlags('all')), fixed: ['--process', 'lifecycle'] }, sizes: ['--orders', SIZES.engine, '--bpmn-instances', '300'] },
  { name: 'http', command: nodeScript('scripts/bench/http.ts'), sizes: ['--orders', SIZES.http] },
  { name: 'scale', command: nodeScript('scripts/bench/scale-out.ts'), sizes: ['--orders', SIZES.scale] },
  { name: 'console', command: consoleCommand() },
];

/** Run one benchmark, its output passed through as it comes, and collect its RESULT lines. */
function run(bench: Bench, command: { file: string; args: string[]; fixed?: string[] }): Promise<{ code: number | null; results: string[] }> {
  const extra = [...(command.fixed ?? []), '--runs', RUNS, ...(args.quick ? ['--quick'] : (bench.sizes ?? []))];
  return new Promise((resolve, reject) => {
    const child = spawn(command.file, [...command.args, ...extra], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
    const results: string[] = [];
    let pending = '';
    child.stdout.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      const lines = (pending + chunk.toString('utf8')).split('\n');
      pending = lines.pop()!;
      for (const line of lines) if (line.startsWith('RESULT ')) results.push(line);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (pending.startsWith('RESULT ')) results.push(pending);
      resolve({ code, results });
    });
  });
}

async function main(): Promise<number> {
  const t0 = performance.now();
  console.log(describeMachine());
  console.log(`benchmarks: ${[...ONLY].join(', ')}; runs ${RUNS}${args.quick ? ', quick' : ''}\n`);
  const summary: string[] = [];
  const collected: string[] = [];
  let failed = 0;
  for (const bench of BENCHES) {
    if (!ONLY.has(bench.name)) continue;
    if ('skip' in bench.command) {
      console.log(`== ${bench.name}: skipped: ${bench.command.skip}\n`);
      summary.push(`  ${bench.name.padEnd(8)} skipped (${bench.command.skip})`);
      continue;
    }
    const started = performance.now();
    const load = loadAverage();
    console.log(`== ${bench.name} (load ${load})`);
    const { code, results } = await run(bench, bench.command);
    const minutes = (performance.now() - started) / 60_000;
    console.log(`== ${bench.name}: ${code === 0 ? 'done' : `FAILED (exit ${code})`} in ${fmt(minutes, 1)} min\n`);
    if (code !== 0) failed++;
    summary.push(`  ${bench.name.padEnd(8)} ${code === 0 ? 'done' : `FAILED (exit ${code})`} in ${fmt(minutes, 1)} min, load before ${load}${results.length ? '' : ', no RESULT line'}`);
    collected.push(...results);
  }
  console.log(`all benchmarks in ${fmt((performance.now() - t0) / 60_000, 1)} min, load now ${loadAverage()}:`);
  for (const line of summary) console.log(line);
  for (const line of collected) console.log(line);
  return failed === 0 ? 0 : 1;
}

process.exit(await main());
