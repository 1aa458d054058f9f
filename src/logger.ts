import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * Structured logs (JSON lines). Secrets never reach them: credentials and tokens are redacted by path.
 * `destination` defaults to stdout (tests pass a stream to read what was logged).
 */
export function createLogger(options: { level?: string; name?: string; destination?: DestinationStream } = {}): Logger {
  return pino({
    name: options.name ?? 'ordo',
    level: options.level ?? 'info',
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers["x-csrf-token"]',
        'res.headers["set-cookie"]',
        '*.headers.authorization',
        '*.headers.cookie',
        'password',
        'token',
        'databaseUrl',
        'connectionString',
        '*.password',
        '*.token',
        '*.databaseUrl',
        '*.connectionString',
      ],
      censor: '[redacted]',
    },
  }, options.destination);
}

/** A database URL fit for a log line: the password replaced. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable DATABASE_URL)';
  }
}
