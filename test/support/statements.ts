import pg from 'pg';
import { vi } from 'vitest';

/**
 * Record the text of every statement that reaches PostgreSQL, read off pg.Client's own `query` (Ordo's
 * client calls it for everything it sends; held-back `begin`s never get there), until `stop()`.
 */
export function recordStatements(): { sent: string[]; stop(): void } {
  const sent: string[] = [];
  const send = pg.Client.prototype.query;
  const spy = vi.spyOn(pg.Client.prototype, 'query').mockImplementation(function (this: pg.Client, ...args: unknown[]) {
    const first = args[0];
    sent.push(typeof first === 'string' ? first : String((first as { text?: string }).text));
    return (send as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof pg.Client.prototype.query);
  return { sent, stop: () => spy.mockRestore() };
}
