/**
 * The part of autocannon 8's API the benchmarks use (the package ships no types, and @types/autocannon is
 * not a dependency). Latencies are in milliseconds, durations in seconds.
 */
declare module 'autocannon' {
  export interface RequestParams {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
  }
  export interface Request extends RequestParams {
    /** Called before each request is sent (once per request, in order per connection). */
    setupRequest?: (request: RequestParams, context: Record<string, unknown>) => RequestParams;
    onResponse?: (status: number, body: string, context: Record<string, unknown>, headers: Record<string, string>) => void;
  }
  export interface Options {
    url: string;
    connections?: number;
    pipelining?: number;
    /** Seconds; ignored when `amount` is set. */
    duration?: number;
    /** Requests in all, spread over the connections. */
    amount?: number;
    /** Milliseconds between samples; the result comes on the first tick after the end. */
    sampleInt?: number;
    /** Seconds before a request counts as timed out. */
    timeout?: number;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    requests?: Request[];
  }
  export interface Histogram {
    average: number;
    mean: number;
    stddev: number;
    min: number;
    max: number;
    total: number;
    p50: number;
    p90: number;
    p97_5: number;
    p99: number;
  }
  export interface Result {
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    '2xx': number;
    statusCodeStats: Record<string, { count: number }>;
    latency: Histogram;
    requests: Histogram & { sent: number };
  }
  /** The run, awaitable for its result; emits 'response' (client, statusCode, bytes, responseTime ms) per answer. */
  interface Instance extends Promise<Result> {
    on(event: 'response', listener: (client: unknown, statusCode: number, bytes: number, responseTime: number) => void): Instance;
    on(event: string, listener: (...args: any[]) => void): Instance;
  }
  function autocannon(options: Options): Instance;
  export default autocannon;
}
