import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { redactUrl } from '../logger.ts';
import { connect, type DbHandle } from './connection.ts';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded.ts';

export interface OpenDatabase extends DbHandle {
  url: string;
  embedded: EmbeddedPostgres | null;
  /** Close the pool, then stop the embedded server if this process started it. */
  shutdown(): Promise<void>;
}

/** DATABASE_URL when given; otherwise Ordo's embedded PostgreSQL under the data folder. */
export async function openDatabase(config: Config, logger: Logger, options: { poolSize?: number } = {}): Promise<OpenDatabase> {
  let embedded: EmbeddedPostgres | null = null;
  let url = config.databaseUrl;
  if (url) {
    logger.info({ database: redactUrl(url) }, 'using the PostgreSQL server given by DATABASE_URL');
  } else {
    logger.info({ dataDir: config.dataDir }, 'no DATABASE_URL: using the embedded PostgreSQL');
    embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, port: config.embeddedPgPort, database: 'ordo', log: logger.child({ component: 'postgres' }) });
    url = embedded.url;
  }
  const handle = connect(url, { max: options.poolSize ?? 10, onError: (err) => logger.warn({ err: err.message }, 'idle database connection lost') });
  return {
    ...handle,
    url,
    embedded,
    async shutdown() {
      await handle.close().catch((err) => logger.warn({ err }, 'closing the pool failed'));
      await embedded?.stop();
    },
  };
}
