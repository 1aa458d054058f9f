import { pino, type Logger } from 'pino';

/** Structured logs (JSON lines). Secrets never reach them: credentials and tokens are redacted by path. */
export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({
    name: options.name ?? 'ordo',
    level: options.level ?? 'info',
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]', '*.password', '*.token', 'password', 'token', 'databaseUrl'],
      censor: '[redacted]',
    },
  });
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
