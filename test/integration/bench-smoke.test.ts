import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { parseResultLines } from '../../scripts/bench/common.ts';

/**
 * The benchmarks still run: bench:engine, bench:http, bench:scale and bench:ab with a handful of orders against the test
 * PostgreSQL (they create and drop their own databases on it), each as `npm run bench` would start it.
 * Their figures mean nothing here; that they finish, verify every order and print a RESULT line does.
 */
const ROOT = path.resolve(import.meta.dirname, '..', '..');
const BENCH_TIMEOUT_MS = 150_000;

function runBench(script: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: inject('pgAdminUrl') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), BENCH_TIMEOUT_MS - 5_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('benchmarks', () => {
  it.each([
    ['checks', /parked at \{.*"end:EndEvent_Released":\d+/],
    ['lifecycle', /parked at \{.*"Event_Delivered":\d+/],
  ])(
    'bench:engine --process %s warms up, runs its orders through intake and the workers, verifies them and measures both baselines on the same diagram',
    async (diagram, bpmnEngineParking) => {
      const { code, output } = await runBench('scripts/bench/engine.ts', [
        '--process', diagram, '--orders', '60', '--warmup', '20', '--runs', '1', '--tpcb-scale', '1', '--tpcb-seconds', '1', '--bpmn-instances', '10',
      ]);
      expect(code, output).toBe(0);
      expect(output).toMatch(/warm-up: 20 orders settled/);
      expect(output).toMatch(/settled per second: \d/);
      expect(output).toMatch(bpmnEngineParking);
      const result = parseResultLines(output);
      expect(result.process).toBe(diagram);
      expect(Number(result.engine_per_s), output).toBeGreaterThan(0);
      expect(Number(result.tpcb_per_s)).toBeGreaterThan(0);
      expect(Number(result.ratio_tpcb)).toBeGreaterThan(0);
      expect(Number(result.bpmn_engine_per_s)).toBeGreaterThan(0);
      expect(Number(result.rss_mb)).toBeGreaterThan(0);
    },
    BENCH_TIMEOUT_MS,
  );

  it(
    'bench:http posts every order through the real web and worker processes and reports them all accepted',
    async () => {
      const { code, output } = await runBench('scripts/bench/http.ts', [
        '--orders', '50', '--runs', '1', '--warmup', '0', '--healthz-seconds', '1', '--tpcb-scale', '1', '--tpcb-seconds', '1',
      ]);
      expect(code, output).toBe(0);
      const result = parseResultLines(output);
      expect(result.http_non2xx, output).toBe('0');
      expect(Number(result.http_orders_per_s)).toBeGreaterThan(0);
      expect(Number(result.http_p99_ms)).toBeGreaterThanOrEqual(Number(result.http_p50_ms));
      expect(Number(result.healthz_per_s)).toBeGreaterThan(0);
      expect(Number(result.tpcb_per_s)).toBeGreaterThan(0);
      expect(Number(result.web_rss_mb)).toBeGreaterThan(0);
      expect(Number(result.worker_rss_mb)).toBeGreaterThan(0);
    },
    BENCH_TIMEOUT_MS,
  );

  it(
    'bench:scale settles the same queued orders with one worker process and with two, exactly once',
    async () => {
      const { code, output } = await runBench('scripts/bench/scale-out.ts', ['--orders', '40', '--runs', '1', '--warmup', '10']);
      expect(code, output).toBe(0);
      const result = parseResultLines(output);
      expect(Number(result.scale_1_worker_per_s)).toBeGreaterThan(0);
      expect(Number(result.scale_2_workers_per_s)).toBeGreaterThan(0);
      expect(Number(result.scale_ratio)).toBeGreaterThan(0);
      expect(Number(result.worker_rss_mb)).toBeGreaterThan(0);
    },
    BENCH_TIMEOUT_MS,
  );

  it(
    'bench:ab runs a benchmark on a base commit and on this tree in turn, compares the medians and leaves no worktree behind',
    async () => {
      const worktrees = () => execFileSync('git', ['worktree', 'list', '--porcelain'], { cwd: ROOT, encoding: 'utf8' });
      const before = worktrees();
      const { code, output } = await runBench('scripts/bench/ab.ts', ['--base', 'HEAD', '--pairs', '1', '--', '--phases', 'engine', '--orders', '30', '--warmup', '10']);
      expect(code, output).toBe(0);
      expect(output).toMatch(/^pair 1 base .* orders\/s; CPU ms per order: Node \d/m);
      expect(output).toMatch(/^pair 1 current .* orders\/s; CPU ms per order: Node \d/m);
      const result = parseResultLines(output);
      expect(Number(result.ab_base_per_s), output).toBeGreaterThan(0);
      expect(Number(result.ab_current_per_s)).toBeGreaterThan(0);
      expect(Number(result.ab_ratio)).toBeCloseTo(Number(result.ab_current_per_s) / Number(result.ab_base_per_s), 1);
      expect(worktrees()).toBe(before);
    },
    BENCH_TIMEOUT_MS,
  );

  it('bench:ab refuses a base that is not a commit, before running anything', async () => {
    const { code, output } = await runBench('scripts/bench/ab.ts', ['--base', 'no-such-commit-anywhere']);
    expect(code).not.toBe(0);
    expect(output).toMatch(/^bench:ab: --base no-such-commit-anywhere is not a commit/m);
    expect(output).not.toMatch(/\bat .*\.ts:\d+/);
  });
});
