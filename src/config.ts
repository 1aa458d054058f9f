import path from 'node:path';

/**
 * Every setting Ordo reads from the environment, in one place (the README lists them all).
 * Read once at start; nothing else in src/ looks at process.env.
 */
export interface Config {
  port: number;
  host: string;
  /** A PostgreSQL URL; when absent Ordo runs its own embedded server. */
  databaseUrl: string | null;
  dataDir: string;
  embeddedPgPort: number;
  logLevel: string;
  adminPassword: string | null;
  bootstrapToken: string | null;
  /** Cookies get the Secure flag unless explicitly turned off for plain-HTTP local use. */
  secureCookies: boolean;
  /**
   * Which peers may tell the client's address in X-Forwarded-For (fastify's trustProxy): addresses,
   * CIDRs or proxy-addr's names, `true` for anyone, `false` for no one.
   */
  trustProxy: string | boolean;
  workerConcurrency: number;
  /** Cash on delivery above this amount (in the order's currency) raises COD_NOT_ALLOWED. */
  codLimit: string;
  /** How long a bank transfer / BLIK payment may stay pending before a ticket is raised (ISO 8601). */
  paymentTimeout: string;
  /** Orders at or above this grand total need a manual approval. */
  approvalThreshold: string;
  /**
   * Where a new order's lifecycle starts: `intake` runs its first step in the intake transaction (the
   * answer already carries the resulting status); `worker` only queues the start for a worker.
   */
  lifecycleStart: 'intake' | 'worker';
  /** Seconds a lifecycle-start or timer job may stay with a worker before pg-boss takes it back. */
  jobExpireSeconds: number;
  /** Seconds a service-task job may run before pg-boss takes it back. */
  serviceJobExpireSeconds: number;
  /**
   * Seconds a service handler may take before its worker gives up on it (the attempt fails and is retried
   * with the diagram's backoff; the handler's signal is aborted). Below serviceJobExpireSeconds.
   */
  serviceTimeoutSeconds: number;
  /** Seconds between pg-boss maintenance runs (the sweep that takes back expired jobs). */
  bossMaintenanceSeconds: number;
}

/**
 * A reverse proxy on this machine. Not the private networks: any client on an office LAN or a container
 * network could then name its own address and slip past the login limit per address. A proxy elsewhere
 * is named in ORDO_TRUST_PROXY.
 */
export const DEFAULT_TRUSTED_PROXIES = 'loopback';

function trustProxy(value: string | undefined): string | boolean {
  if (value === undefined || value.trim() === '') return DEFAULT_TRUSTED_PROXIES;
  if (value === 'all') return true;
  if (value === 'none') return false;
  return value;
}

function int(name: string, value: string | undefined, fallback: number, min = 0): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer of at least ${min}, got "${value}"`);
  return n;
}

function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined || value === '') return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new Error(`${name} must be one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const dataDir = path.resolve(env.ORDO_DATA_DIR || '.data');
  // Defaults: runtime/boss.ts DEFAULT_BOSS_SETTINGS (repeated: config imports nothing).
  const serviceJobExpireSeconds = int('ORDO_SERVICE_JOB_EXPIRE_SECONDS', env.ORDO_SERVICE_JOB_EXPIRE_SECONDS, 600, 1);
  // 60 s, or 90 % of a shorter service job expiry: below the expiry either way.
  const serviceTimeoutSeconds = int('ORDO_SERVICE_TIMEOUT_SECONDS', env.ORDO_SERVICE_TIMEOUT_SECONDS, Math.max(1, Math.min(60, Math.floor(serviceJobExpireSeconds * 0.9))), 1);
  // A handler still running when pg-boss takes its job back would run twice at once.
  if (env.ORDO_SERVICE_TIMEOUT_SECONDS && serviceTimeoutSeconds >= serviceJobExpireSeconds) {
    throw new Error(
      `ORDO_SERVICE_TIMEOUT_SECONDS (${serviceTimeoutSeconds}) must be below ORDO_SERVICE_JOB_EXPIRE_SECONDS (${serviceJobExpireSeconds}): a job must not be taken back from a handler that may still finish`,
    );
  }
  return {
    port: int('PORT', env.PORT, 3000),
    host: env.HOST || '0.0.0.0',
    databaseUrl: env.DATABASE_URL || null,
    dataDir,
    embeddedPgPort: int('ORDO_PG_PORT', env.ORDO_PG_PORT, 54329),
    logLevel: env.LOG_LEVEL || 'info',
    adminPassword: env.ORDO_ADMIN_PASSWORD || null,
    bootstrapToken: env.ORDO_BOOTSTRAP_TOKEN || null,
    secureCookies: env.ORDO_INSECURE_COOKIES !== '1',
    trustProxy: trustProxy(env.ORDO_TRUST_PROXY),
    workerConcurrency: int('WORKER_CONCURRENCY', env.WORKER_CONCURRENCY, 4),
    codLimit: env.ORDO_COD_LIMIT || '5000.00',
    paymentTimeout: env.ORDO_PAYMENT_TIMEOUT || 'P3D',
    approvalThreshold: env.ORDO_APPROVAL_THRESHOLD || '10000.00',
    lifecycleStart: oneOf('ORDO_LIFECYCLE_START', env.ORDO_LIFECYCLE_START, ['intake', 'worker'] as const, 'intake'),
    jobExpireSeconds: int('ORDO_JOB_EXPIRE_SECONDS', env.ORDO_JOB_EXPIRE_SECONDS, 120, 1),
    serviceJobExpireSeconds,
    bossMaintenanceSeconds: int('ORDO_BOSS_MAINTENANCE_SECONDS', env.ORDO_BOSS_MAINTENANCE_SECONDS, 30, 1),
    serviceTimeoutSeconds,
  };
}
