/**
 * The load side of `npm run bench:console`, in a process of its own so the clients do not share the
 * server's event loop: autocannon with N connections for a while against a list of paths (each
 * request takes the next one), after a short unmeasured warm-up. Every response's latency and status
 * is recorded (autocannon reports no 95th percentile of its own). Started with fork(); it gets a
 * LoadJob message and answers with a LoadResult.
 */
import autocannon from 'autocannon';

export interface LoadJob {
  url: string;
  cookie: string;
  connections: number;
  seconds: number;
  warmupSeconds: number;
  paths: string[];
}

export interface LoadResult {
  requests: number;
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** Responses by status code, plus autocannon's errors and timeouts. */
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  /** CPU time of the web process per request it answered (user + system), filled in by console.ts. */
  cpuMsPerRequest?: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function run(job: LoadJob, seconds: number, record: boolean): Promise<LoadResult> {
  let next = 0;
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const instance = autocannon({
    url: job.url,
    connections: job.connections,
    duration: seconds,
    timeout: 30,
    headers: { cookie: job.cookie, accept: 'text/html' },
    requests: [
      {
        method: 'GET',
        setupRequest: (request) => {
          request.path = job.paths[next++ % job.paths.length]!;
          return request;
        },
      },
    ],
  });
  instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
    if (!record) return;
    latencies.push(responseTime);
    statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
  });
  const result = await instance;
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    perSecond: latencies.length / result.duration,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    max: latencies[latencies.length - 1] ?? 0,
    statuses,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

process.once('message', (job: LoadJob) => {
  void (async () => {
    if (job.warmupSeconds > 0) await run(job, job.warmupSeconds, false);
    const result = await run(job, job.seconds, true);
    process.send!(result, () => process.exit(0));
  })().catch((err) => {
    console.error(err);
    process.exit(1);
  });
});
