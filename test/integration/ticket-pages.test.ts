import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queuePage } from '../../src/runtime/ticket-queue.ts';
import { listTickets, type TicketSort } from '../../src/runtime/tickets.ts';
import { validOrder } from '../fixtures/orders.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { openTicketOf, postOrder } from '../support/orders.ts';

/**
 * Keyset pages of tickets neither skip nor repeat a ticket, also when due times carry microseconds
 * (PostgreSQL keeps them; a due time written by SQL has them) and several tickets share one.
 */
let t: TestApp;
const tag = `PAGES-${Date.now()}`;
let ids: string[] = [];

beforeAll(async () => {
  t = await createTestApp({ workers: true, deployDefaults: true });
  const orderIds = await Promise.all(
    Array.from({ length: 5 }, (_, i) => {
      const o = validOrder({ externalId: `${tag}-${i}` });
      o.customer = { ...o.customer, phone: null };
      return postOrder(t, o);
    }),
  );
  ids = (await Promise.all(orderIds.map((id) => openTicketOf(t, id)))).sort((a, b) => Number(a) - Number(b));
  // Two pairs sharing a due time to the microsecond, one more a microsecond later, and one without.
  const due = ['2031-01-02T03:04:05.123456Z', '2031-01-02T03:04:05.123456Z', '2031-01-02T03:04:05.123457Z', '2031-01-02T03:04:05.999999Z', null];
  for (const [i, id] of ids.entries()) await sql`update tickets set due_at = ${due[i]}::timestamptz where id = ${id}`.execute(t.database.db);
});
afterAll(async () => {
  await t?.close();
});

async function walk(page: (cursor?: string) => Promise<{ ids: string[]; next: string | null }>): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | undefined;
  for (let n = 0; n < 20; n++) {
    const p = await page(cursor);
    seen.push(...p.ids);
    if (!p.next) return seen;
    cursor = p.next;
  }
  throw new Error(`no last page after 20: ${seen.join(', ')}`);
}

describe('pages of tickets', () => {
  for (const sort of ['due', 'priority', 'newest'] as TicketSort[]) {
    it(`walks the ${sort} order one ticket a page, each ticket once (API and console queue)`, async () => {
      const expected = sort === 'newest' ? [...ids].reverse() : ids;
      const api = await walk(async (cursor) => {
        const p = await listTickets(t.database.db, { q: tag }, sort, 1, cursor);
        return { ids: p.items.map((i) => i.id), next: p.nextCursor };
      });
      expect(api).toEqual(expected);
      const queue = await walk(async (cursor) => {
        const p = await queuePage(t.database.db, { q: tag }, sort, 1, cursor);
        return { ids: p.items.map((i) => i.id), next: p.nextCursor };
      });
      expect(queue).toEqual(expected);
    });
  }

  it('walks the same pages over HTTP, the cursor passed back as given', async () => {
    const seen = await walk(async (cursor) => {
      const res = await t.http
        .get(`/api/v1/tickets?q=${tag}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
        .set('authorization', `Bearer ${t.token}`);
      expect(res.status).toBe(200);
      return { ids: (res.body.items as Array<{ id: string }>).map((i) => i.id), next: res.body.nextCursor as string | null };
    });
    expect(seen).toEqual(ids);
  });
});
