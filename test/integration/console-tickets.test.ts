import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Order } from '../../src/orders/schema.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { openTicketOf, postOrder } from '../support/orders.ts';
import { loginAs, type ConsoleBrowser } from '../support/console.ts';
import { validOrder } from '../fixtures/orders.ts';
import { eventually } from './engine/helpers.ts';

/**
 * The operator's ticket pages against the real lifecycle: orders go in through the API, the workers run
 * the default diagram, broken orders become tickets, and operators work them through the console.
 */
let t: TestApp;
let operator: ConsoleBrowser;
let analyst: ConsoleBrowser;
let n = 0;

const MARKUP = '<script>alert(1)</script><img src=x onerror=alert(2)>';

beforeAll(async () => {
  t = await createTestApp({ workers: true, deployDefaults: true });
  [operator, analyst] = await Promise.all([loginAs(t, 'operator'), loginAs(t, 'analyst')]);
});
afterAll(async () => {
  await t?.close();
});

function order(mutate: (o: Order) => void, prefix = 'TQ'): Order {
  const o = structuredClone(validOrder({ externalId: `${prefix}-${++n}-${Date.now()}` }));
  mutate(o);
  return o;
}

async function orderStatus(orderId: string): Promise<string> {
  const row = await t.database.db.selectFrom('orders').select('status').where('id', '=', orderId).executeTakeFirstOrThrow();
  return row.status;
}

async function ticketStatus(id: string): Promise<string> {
  const row = await t.database.db.selectFrom('tickets').select('status').where('id', '=', id).executeTakeFirstOrThrow();
  return row.status;
}

/** Ticket ids of the queue rows in a page or fragment, in order. */
function rowIds(html: string): string[] {
  return [...html.matchAll(/<tr id="ticket-row-(\d+)"/g)].map((m) => m[1]!);
}

function decode(url: string): string {
  return url.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&');
}

const noPhone = (o: Order) => (o.customer.phone = null);

describe('/tickets, the queue', () => {
  let phoneTickets: string[];
  let paymentTicket: string;
  let invoiceTicket: string;
  let tag: string;

  beforeAll(async () => {
    tag = `Queue${Date.now()}`;
    const named = (name: string, extra: (o: Order) => void) => order((o) => ((o.customer.name = `${tag} ${name}`), extra(o)));
    const ids = await Promise.all([
      postOrder(t, named('Ala', noPhone)),
      postOrder(t, named('Ola', noPhone)),
      postOrder(t, named('Ela', noPhone)),
      postOrder(t, named('Pay', (o) => (o.payment.status = 'failed'))),
      postOrder(t, named('Inv', (o) => (o.invoice!.companyName = null))),
    ]);
    const tickets = await Promise.all(ids.map((id) => openTicketOf(t, id)));
    phoneTickets = tickets.slice(0, 3);
    paymentTicket = tickets[3]!;
    invoiceTicket = tickets[4]!;
  });

  it('lists open tickets with counts per queue and per problem, in the operator’s words', async () => {
    const res = await operator.get(`/tickets?q=${tag}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(rowIds(res.text).sort()).toEqual([...phoneTickets, paymentTicket, invoiceTicket].sort());
    // Unfiltered, the queue tabs count all open tickets; the problem filter has counts per code.
    const all = await operator.get('/tickets');
    const counts = await t.database.db.selectFrom('tickets').select(['queue']).where('status', 'in', ['open', 'in_progress']).execute();
    const perQueue = (q: string) => counts.filter((c) => c.queue === q).length;
    expect(all.text).toContain(`All <span class="count">${counts.length}</span>`);
    expect(all.text).toContain(`address <span class="count">${perQueue('address')}</span>`);
    expect(all.text).toContain(`payment <span class="count">${perQueue('payment')}</span>`);
    expect(all.text).toContain(`Showing 1–${Math.min(counts.length, 50)} of ${counts.length}</span>`);
    expect(res.text).toMatch(/<option value="PHONE_MISSING">Phone missing \(\d+ open\)<\/option>/);
    // A row: the order, the customer, the problem as a sentence, the step, and "Assign to me".
    const row = new RegExp(`<tr id="ticket-row-${phoneTickets[0]}"[\\s\\S]*?</tr>`).exec(res.text)![0];
    expect(row).toContain(`${tag} Ala`);
    expect(row).toMatch(/class="problem">[^<]*phone/i);
    expect(row).toContain('PHONE_MISSING');
    expect(row).toContain('<td class="step">Validate address</td>');
    expect(row).toMatch(/<time datetime="[^"]+" data-localized>in \d+ (min|h)<\/time>/);
    expect(row).toContain('Assign to me');
    // The nav shows the open-ticket count.
    expect(res.text).toContain(`<span class="count" id="nav-open-tickets" data-open-tickets>${counts.length}</span>`);
    // Every filter has a label.
    for (const id of ['tickets-q', 'tickets-code', 'tickets-status', 'tickets-assignee', 'tickets-age', 'tickets-sort']) expect(res.text).toContain(`<label for="${id}">`);
  });

  it('filters by queue, problem, assignee, status, age and search, and keeps the filters in the form', async () => {
    expect(rowIds((await operator.get(`/tickets?q=${tag}&queue=payment`)).text)).toEqual([paymentTicket]);
    expect(rowIds((await operator.get(`/tickets?q=${tag}&code=invoice_company_missing`)).text)).toEqual([invoiceTicket]);
    expect(rowIds((await operator.get(`/tickets?q=${tag} Ola`)).text)).toEqual([phoneTickets[1]]);
    // Search finds the order number and the e-mail too.
    const ext = await t.database.db.selectFrom('orders').innerJoin('tickets', 'tickets.order_id', 'orders.id').select('orders.external_id').where('tickets.id', '=', paymentTicket).executeTakeFirstOrThrow();
    expect(rowIds((await operator.get(`/tickets?q=${ext.external_id}`)).text)).toEqual([paymentTicket]);

    const assign = await operator.htmx('post', `/tickets/${phoneTickets[2]}/assign`, { assignee: 'me' }).set('hx-target', `ticket-row-${phoneTickets[2]}`);
    expect(assign.status).toBe(200);
    expect(assign.text).toMatch(/^<tr id="ticket-row-\d+"/);
    expect(assign.text).toContain('<span class="who mine">me</span>');
    expect(assign.text).not.toContain('Assign to me');
    // A colleague sees it is someone's, and is asked before taking it over.
    const colleague = await loginAs(t, 'operator');
    const theirs = new RegExp(`<tr id="ticket-row-${phoneTickets[2]}"[\\s\\S]*?</tr>`).exec((await colleague.get(`/tickets?q=${tag}`)).text)![0];
    expect(theirs).toContain(`hx-confirm="Take over ticket #${phoneTickets[2]} from ${operator.user.email}?"`);
    expect(theirs).toContain('>Take over</button>');
    expect(rowIds((await operator.get(`/tickets?q=${tag}&assignee=me`)).text)).toEqual([phoneTickets[2]]);
    expect(rowIds((await operator.get(`/tickets?q=${tag}&assignee=none`)).text)).not.toContain(phoneTickets[2]);
    expect(rowIds((await operator.get(`/tickets?q=${tag}&status=in_progress`)).text)).toEqual([phoneTickets[2]]);
    expect(rowIds((await operator.get(`/tickets?q=${tag}&age=1d`)).text)).toEqual([]);
    expect(rowIds((await operator.get(`/tickets?q=${tag}&sort=priority`)).text)).toHaveLength(5);

    // Without JavaScript a row's "Assign to me" submits the whole queue form: the selection and the
    // bulk bar's assignee come along and must not get in the way.
    const plainAssign = await operator.post(`/tickets/${phoneTickets[1]}/assign`, { assignee: 'me', assignTo: 'none', ids: phoneTickets[0]!, action: '' });
    expect(plainAssign.status).toBe(303);
    expect(rowIds((await operator.get(`/tickets?q=${tag}&assignee=me`)).text).sort()).toEqual([phoneTickets[1], phoneTickets[2]].sort());
    expect((await operator.post(`/tickets/${phoneTickets[1]}/assign`, { assignee: 'none' })).status).toBe(303);

    const kept = await operator.get(`/tickets?q=${tag}&queue=address&status=in_progress&sort=priority`);
    expect(kept.text).toContain(`value="${tag}"`);
    expect(kept.text).toContain('<option value="in_progress" selected>');
    expect(kept.text).toContain('<option value="priority" selected>');
    expect(kept.text).toContain('<input type="hidden" form="ticket-filters" name="queue" value="address">');
    expect(kept.text).toMatch(/<a href="\/tickets\?queue&#x3D;address[^"]*" [^>]*aria-current="true">address/);

    const odd = await operator.get('/tickets?status=lost&age=forever');
    expect(odd.status).toBe(200);
    expect(odd.text).toContain('Unknown status &quot;lost&quot; ignored.');
  });

  it('answers htmx with the fragment: the list for a filter change, the rows (and counts) for the refresh', async () => {
    const list = await operator.htmx('get', `/tickets?q=${tag}`);
    expect(list.status).toBe(200);
    expect(list.text).not.toContain('<html');
    expect(list.text).not.toContain('id="ticket-filters"');
    expect(list.text).toContain('id="bulk-form"');
    expect(rowIds(list.text)).toHaveLength(5);

    const refresh = await operator.htmx('get', `/tickets?q=${tag}`).set('hx-target', 'ticket-rows');
    expect(refresh.text.trimStart()).toMatch(/^<tbody id="ticket-rows"/);
    expect(refresh.text).not.toContain('id="bulk-form"');
    // It refreshes from the URL it was rendered for, with a checkbox per row named by ticket id (tickets.js
    // ticks them again after the swap), and updates the counts out of band.
    expect(refresh.text).toContain(`hx-get="/tickets?q&#x3D;${tag}"`);
    expect(refresh.text).toMatch(/hx-trigger="every \d+s, tickets-changed from:body"/);
    expect(refresh.text).toMatch(/<input type="checkbox" name="ids" value="\d+" id="select-\d+"/);
    expect(refresh.text).toContain('<nav class="queue-tabs" id="ticket-queues" aria-label="Queues (counts match the filters)" hx-swap-oob="true">');
    expect(refresh.text).toContain('All <span class="count">5</span>');
    expect(refresh.text).toContain('Showing 1–5 of 5</span>');
    // The navigation's open-ticket count too, so it does not go stale beside the tabs.
    const open = await t.database.db.selectFrom('tickets').select('id').where('status', 'in', ['open', 'in_progress']).execute();
    expect(refresh.text).toContain(`<span class="count" id="nav-open-tickets" data-open-tickets hx-swap-oob="true">${open.length}</span>`);
    expect(rowIds(refresh.text)).toHaveLength(5);
  });

  it('pages with a keyset cursor: Next › shows the rest, no gaps, no repeats', async () => {
    const pager = `Pager${Date.now()}`;
    const ids = await Promise.all(Array.from({ length: 53 }, (_, i) => postOrder(t, order((o) => ((o.customer.name = `${pager} ${i}`), noPhone(o)), 'PG'))));
    await eventually(
      () => t.database.db.selectFrom('tickets').select((e) => e.fn.countAll<string>().as('n')).where('order_id', 'in', ids).executeTakeFirstOrThrow(),
      (r) => Number(r.n) === 53,
      30_000,
    );
    const first = await operator.get(`/tickets?q=${pager}`);
    const firstRows = rowIds(first.text);
    expect(firstRows).toHaveLength(50);
    expect(first.text).toContain('Showing 1–50 of 53</span>');
    const next = decode(/<a href="([^"]+)" hx-get="[^"]+" hx-target="#ticket-list" hx-push-url="true" rel="next">Next ›<\/a>/.exec(first.text)![1]!);
    expect(next).toMatch(new RegExp(`^/tickets\\?q=${pager}&cursor=[^&]+&from=51$`));
    const second = await operator.htmx('get', next);
    const secondRows = rowIds(second.text);
    expect(secondRows).toHaveLength(3);
    expect(second.text).toContain('Showing 51–53 of 53</span>');
    // A later page's refresh keeps its place in the count.
    expect(second.text).toContain(`data-refresh-url="${next.replace(/=/g, '&#x3D;').replace(/&(?!#)/g, '&amp;')}"`);
    expect(new Set([...firstRows, ...secondRows]).size).toBe(53);
    expect(second.text).not.toContain('rel="next"');
    expect((await operator.get('/tickets?cursor=garbage!')).status).toBe(400);
  });

  it('counts what the filters match: the tabs, the chosen queue and the footer (item: counts ignored filters)', async () => {
    const tab = (html: string, label: string) => new RegExp(`>${label}(?: <span class="count">([^<]+)</span>)?</a>`).exec(html)?.[1];
    const search = await operator.get(`/tickets?q=${tag}`);
    expect(search.text).toContain('aria-label="Queues (counts match the filters)"');
    expect([tab(search.text, 'All'), tab(search.text, 'address'), tab(search.text, 'payment'), tab(search.text, 'invoice')]).toEqual(['5', '3', '1', '1']);
    expect(search.text).toContain('Showing 1–5 of 5</span>');
    // The chosen queue narrows the rows and the footer; the tabs still count every queue.
    const inAddress = await operator.get(`/tickets?q=${tag}&queue=address`);
    expect([tab(inAddress.text, 'All'), tab(inAddress.text, 'address'), tab(inAddress.text, 'payment')]).toEqual(['5', '3', '1']);
    expect(inAddress.text).toContain('Showing 1–3 of 3</span>');
    const phone = await operator.htmx('get', `/tickets?q=${tag}&code=PHONE_MISSING`);
    expect([tab(phone.text, 'All'), tab(phone.text, 'address'), tab(phone.text, 'payment'), tab(phone.text, 'invoice')]).toEqual(['3', '3', '0', '0']);
    expect(phone.text).toContain('Showing 1–3 of 3</span>');
    const none = await operator.get(`/tickets?q=${tag}&queue=payment&code=PHONE_MISSING`);
    expect(tab(none.text, 'payment')).toBe('0');
    expect(none.text).toContain('No tickets match these filters.');
    // The navigation keeps counting every open ticket.
    const open = await t.database.db.selectFrom('tickets').select('id').where('status', 'in', ['open', 'in_progress']).execute();
    expect(phone.text).not.toContain('nav-open-tickets');
    expect(search.text).toContain(`<span class="count" id="nav-open-tickets" data-open-tickets>${open.length}</span>`);
    const refresh = await operator.htmx('get', `/tickets?q=${tag}&code=PHONE_MISSING`).set('hx-target', 'ticket-rows');
    expect(refresh.text).toContain(`<span class="count" id="nav-open-tickets" data-open-tickets hx-swap-oob="true">${open.length}</span>`);
    expect(tab(refresh.text, 'address')).toBe('3');
  });

  it('stops a filtered count past 200 ("200+"), counting the chosen queue on its own', async () => {
    // 300 copies of the payment ticket (with waits of their own), written directly: the count's cap, not the lifecycle, is under test.
    const copies = `Cap${Date.now()}`;
    await sql`insert into tickets (order_id, instance_id, wait_id, element_id, element_name, kind, status, queue, priority, priority_rank, due_at, title, issues, codes, instructions, fields)
          select order_id, instance_id, wait_id || '-' || i, element_id, element_name, kind, status, case when i <= 250 then 'payment' else 'invoice' end, priority, priority_rank, due_at, ${copies} || ' ' || i, issues, codes, instructions, fields
          from tickets, generate_series(1, 300) i where id = ${paymentTicket}`.execute(t.database.db);
    try {
      const tab = (html: string, label: string) => new RegExp(`>${label}(?: <span class="count">([^<]+)</span>)?</a>`).exec(html)?.[1];
      const all = await operator.get(`/tickets?q=${copies}`);
      expect(tab(all.text, 'All')).toBe('200+');
      expect(all.text).toContain('Showing 1–50 of 200+</span>');
      // Past the cap only the chosen queue is counted again; the others would each read every match.
      expect(tab(all.text, 'address')).toBeUndefined();
      const invoice = await operator.get(`/tickets?q=${copies}&queue=invoice`);
      expect(tab(invoice.text, 'invoice')).toBe('50');
      expect(invoice.text).toContain('Showing 1–50 of 50</span>');
      const payment = await operator.get(`/tickets?q=${copies}&queue=payment`);
      expect(tab(payment.text, 'payment')).toBe('200+');
      // Unfiltered, the tally counts exactly, digits grouped.
      const open = await t.database.db.selectFrom('tickets').select('id').where('status', 'in', ['open', 'in_progress']).execute();
      expect((await operator.get('/tickets')).text).toContain(`All <span class="count">${open.length}</span>`);
    } finally {
      await t.database.db.deleteFrom('tickets').where('title', 'like', `${copies} %`).execute();
    }
  });

  it('counts a problem code past 200 exactly from the tally, on every tab, and answers a queue without it at once', async () => {
    // 216 tickets with a code of their own: the only filter is that code, so the tally's counts (per code, per queue and code) are the filter's.
    const code = `CAP_CODE_${Date.now()}`;
    await sql`insert into tickets (order_id, instance_id, wait_id, element_id, element_name, kind, status, queue, priority, priority_rank, due_at, title, issues, codes, instructions, fields)
          select order_id, instance_id, wait_id || '-c' || i, element_id, element_name, kind, status, 'payment', priority, priority_rank, due_at, ${code} || ' ' || i, issues, array[${code}]::text[], instructions, fields
          from tickets, generate_series(1, 216) i where id = ${paymentTicket}`.execute(t.database.db);
    try {
      const tab = (html: string, label: string) => new RegExp(`>${label} <span class="count[^"]*"[^>]*>([^<]+)</span></a>`).exec(html)?.[1];
      const page = await operator.get(`/tickets?code=${code}`);
      expect([tab(page.text, 'All'), tab(page.text, 'payment'), tab(page.text, 'address'), tab(page.text, 'invoice')]).toEqual(['216', '216', '0', '0']);
      expect(page.text).toContain('Showing 1–50 of 216</span>');
      expect(page.text).toContain('aria-label="Queues (counts match the filters)"');
      expect(page.text).not.toContain('title="Not counted');
      // The menu's count is of every open ticket with the code, and says so.
      const option = (html: string) => new RegExp(`<option value="${code}"( selected)?>[^<]*\\((\\d+) open( in [a-z]+)?\\)</option>`).exec(html)?.slice(1);
      expect(option(page.text)).toEqual([' selected', '216', undefined]);
      const payment = await operator.get(`/tickets?code=${code}&queue=payment`);
      expect(tab(payment.text, 'payment')).toBe('216');
      expect(payment.text).toContain('Showing 1–50 of 216</span>');
      // On a queue tab the menu counts that queue's tickets.
      expect(option(payment.text)).toEqual([' selected', '216', ' in payment']);
      const address = await operator.get(`/tickets?code=${code}&queue=address`);
      expect(tab(address.text, 'address')).toBe('0');
      expect(address.text).toContain('No tickets match these filters.');
      expect(option(address.text)).toEqual([' selected', '0', ' in address']);
      // A tab's swap (htmx, the list only) sends the menu out of band, counted for the tab; a
      // code the tab holds none of, and not chosen, is not offered there.
      const swapped = await operator.htmx('get', `/tickets?queue=address`).set('hx-target', 'ticket-list');
      const oob = /<select id="tickets-code" name="code" hx-swap-oob="true">([\s\S]*?)<\/select>/.exec(swapped.text)?.[1];
      expect(oob).toBeDefined();
      expect(oob).toContain('<option value="">Any</option>');
      expect(oob).not.toContain(`value="${code}"`);
      expect(oob).toMatch(/ open in address\)<\/option>/);
      expect(swapped.text).not.toContain('<form class="filters"');
      const swappedPayment = await operator.htmx('get', `/tickets?queue=payment`).set('hx-target', 'ticket-list');
      expect(option(swappedPayment.text)).toEqual([undefined, '216', ' in payment']);
      // The rows' own refresh leaves the menu alone (an operator may have it open).
      const refresh = await operator.htmx('get', `/tickets?queue=payment`).set('hx-target', 'ticket-rows');
      expect(refresh.text).not.toContain('id="tickets-code"');
      // With a search besides the code, the counts are the capped matches again.
      const searched = await operator.get(`/tickets?code=${code}&q=${code}`);
      expect(tab(searched.text, 'All')).toBe('200+');
      expect(searched.text).toContain('Showing 1–50 of 200+</span>');
      expect(tab(searched.text, 'address')).toBe('–');
      expect(searched.text).toContain('title="Not counted: these filters match more than 200 tickets"');
    } finally {
      await t.database.db.deleteFrom('tickets').where('title', 'like', `${code} %`).execute();
    }
  });

  it('shows analysts the queue without checkboxes or buttons', async () => {
    const res = await analyst.get(`/tickets?q=${tag}`);
    expect(res.status).toBe(200);
    expect(rowIds(res.text)).toHaveLength(5);
    expect(res.text).not.toContain('name="ids"');
    expect(res.text).not.toContain('Assign to me');
    expect(res.text).not.toContain('class="bulk-bar"');
  });
});

describe('/tickets/:id, the ticket page', () => {
  it('shows what failed, the numbered instructions, and a form with only the fields at fault', async () => {
    const orderId = await postOrder(t, order(noPhone));
    const id = await openTicketOf(t, orderId);
    const res = await operator.get(`/tickets/${id}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain(`Ticket #${id}`);
    expect(res.text).toMatch(/<h2 id="failed-h">What failed<\/h2>/);
    expect(res.text).toMatch(/Phone \(Customer\) · <code>customer\.phone<\/code> · <code>PHONE_MISSING<\/code>/);
    expect(res.text).toMatch(/<ol class="instructions">\s*<li>[^<]+<\/li>\s*<li>/);
    // Exactly one input of the order: the phone, empty, labelled, live-validated.
    const inputs = [...res.text.matchAll(/name="v\.([^"]+)"/g)].map((m) => m[1]);
    expect(inputs).toEqual(['customer.phone']);
    expect(res.text).toContain('<label for="f-customer-phone">Phone</label>');
    expect(res.text).toMatch(/<input id="f-customer-phone" name="v.customer.phone" type="tel" value=""/);
    expect(res.text).toContain(`hx-post="/tickets/${id}/check" hx-trigger="input changed delay:400ms"`);
    expect(res.text).toContain('Save and retry');
    expect(res.text).toContain('<label for="fix-reason">Reason</label>');
    // The order line, the collapsed order data and the diagram with the failing step.
    expect(res.text).toContain('<details class="order-data-details" id="ticket-order-data">');
    expect(res.text).toContain(`data-bpmn-url="/orders/${orderId}/diagram.bpmn"`);
    expect(res.text).toContain('data-highlight-failed="Task_ValidateAddress"');
    expect(res.text).toContain('/assets/build/viewer.js');
    // History: opened by the step.
    expect(res.text).toContain('Ticket opened by Validate address');
  });

  it('shows the sub-fields of an object at fault (a missing address), prefilled where known', async () => {
    const orderId = await postOrder(t, order((o) => (o.invoice!.address = { street: 'ul. Prosta 51', postalCode: null, city: null, country: 'PL' })));
    const id = await openTicketOf(t, orderId);
    const res = await operator.get(`/tickets/${id}`);
    const inputs = [...res.text.matchAll(/name="v\.([^"]+)"/g)].map((m) => m[1]);
    expect(inputs).toEqual(['invoice.address.postalCode', 'invoice.address.city']);
    const missing = await postOrder(t, order((o) => (o.shippingAddress = null)));
    const page = await operator.get(`/tickets/${await openTicketOf(t, missing)}`);
    expect(page.text).toContain('<legend>Shipping address</legend>');
    expect([...page.text.matchAll(/name="v\.([^"]+)"/g)].map((m) => m[1])).toEqual(expect.arrayContaining(['shippingAddress.street', 'shippingAddress.postalCode', 'shippingAddress.city', 'shippingAddress.country']));
  });

  it('validates as the operator types: a verdict per field, nothing written', async () => {
    const orderId = await postOrder(t, order(noPhone));
    const id = await openTicketOf(t, orderId);
    const good = await operator.htmx('post', `/tickets/${id}/check`, { 'v.customer.phone': '+48 601 234 567' });
    expect(good.status).toBe(200);
    expect(good.text).toContain('<span class="check" id="check-customer-phone" aria-live="polite" hx-swap-oob="true"><span class="check-ok">✓ looks right</span></span>');
    expect(good.text).toContain('The step would pass');
    const bad = await operator.htmx('post', `/tickets/${id}/check`, { 'v.customer.phone': '12' });
    expect(bad.text).toMatch(/id="check-customer-phone"[^>]*><span class="check-bad">✗ [^<]+<\/span>/);
    expect(bad.text).not.toContain('The step would pass');
    expect(await ticketStatus(id)).toBe('open');
    const data = await t.database.db.selectFrom('orders').select('data').where('id', '=', orderId).executeTakeFirstOrThrow();
    expect((data.data as Order).customer.phone).toBeNull();

    // Fixed meanwhile from another page: the live check says so, instead of "would pass".
    await t.http.patch(`/api/v1/orders/${orderId}`).set('authorization', `Bearer ${t.token}`).send({ customer: { phone: '+48 601 234 567' } });
    expect(await ticketStatus(id)).toBe('resolved');
    const stale = await operator.htmx('post', `/tickets/${id}/check`, { 'v.customer.phone': '+48 601 234 567' });
    expect(stale.text).toMatch(/This ticket was resolved by [^ ]+ meanwhile: reload the page/);
    expect(stale.text).not.toContain('The step would pass');
  });

  it('Save and retry with a bad value keeps the ticket and shows the remaining issue next to its field, keeping what was typed', async () => {
    const orderId = await postOrder(t, order(noPhone));
    const id = await openTicketOf(t, orderId);
    const res = await operator.htmx('post', `/tickets/${id}/retry`, { 'v.customer.phone': '+48 12', reason: 'typo' });
    expect(res.status).toBe(200);
    expect(res.text.trimStart()).toMatch(/^<section class="card fix-card" id="ticket-fix"/);
    expect(res.text).toContain('The step still fails');
    expect(res.text).toMatch(/<input id="f-customer-phone" name="v.customer.phone" type="tel" value="\+48 12"/);
    expect(res.text).toMatch(/<span class="check" id="check-customer-phone" aria-live="polite"><span class="check-bad">✗ [^<]*(phone|number)[^<]*<\/span>/i);
    // Header, issues and history come along out of band.
    expect(res.text).toContain('id="ticket-head" hx-swap-oob="true"');
    expect(res.text).toContain('id="ticket-history" aria-labelledby="history-h" hx-swap-oob="true"');
    expect(res.text).toContain('Still failing');
    expect(res.text).not.toContain('id="nav-open-tickets"'); // nothing closed, the count stands
    expect(await ticketStatus(id)).toBe('open');
    expect(await orderStatus(orderId)).toBe('on_hold');
  });

  it('after a partial fix keeps the fields in their order, the fixed one judged right, and the history tells the change and why', async () => {
    const orderId = await postOrder(t, order((o) => (noPhone(o), (o.customer.email = 'anna@example,com'))));
    const id = await openTicketOf(t, orderId);
    const first = await operator.get(`/tickets/${id}`);
    const order0 = [...first.text.matchAll(/<input id="f-([a-z-]+)"/g)].map((m) => m[1]);
    expect(order0).toEqual(['customer-phone', 'customer-email']);

    const res = await operator.htmx('post', `/tickets/${id}/retry`, { 'v.customer.phone': '+48 601 234 567', 'v.customer.email': 'anna@example,com', reason: 'called <b>her</b>' });
    expect(res.status).toBe(200);
    expect(res.text).toContain('The step still fails');
    expect([...res.text.matchAll(/<input id="f-([a-z-]+)"/g)].map((m) => m[1])).toEqual(order0);
    expect(res.text).toMatch(/<span class="check" id="check-customer-phone" aria-live="polite"><span class="check-ok">✓ looks right<\/span>/);
    expect(res.text).toMatch(/<span class="check" id="check-customer-email" aria-live="polite"><span class="check-bad">✗/);
    // The page as reloaded keeps the order too (the phone with its saved value).
    const again = await operator.get(`/tickets/${id}`);
    expect([...again.text.matchAll(/<input id="f-([a-z-]+)"/g)].map((m) => m[1])).toEqual(order0);
    expect(again.text).toMatch(/id="f-customer-phone" name="v.customer.phone" type="tel" value="\+48 601 234 567"/);
    // History: the change, before → after, and the reason typed (escaped).
    for (const html of [res.text, again.text]) {
      expect(html).toContain('Corrected and retried');
      expect(html).toContain('Phone (Customer): empty → “+48 601 234 567”');
      expect(html).toContain('why: called &lt;b&gt;her&lt;/b&gt;');
    }
  });

  it('Save and retry with a good value resolves the ticket and the order is released; a second retry says who handled it', async () => {
    const orderId = await postOrder(t, order(noPhone));
    const id = await openTicketOf(t, orderId);
    const res = await operator.htmx('post', `/tickets/${id}/retry`, { 'v.customer.phone': '+48 601 234 567', reason: 'customer confirmed by e-mail' });
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/class="outcome outcome-ok"/);
    expect(res.text).toMatch(/Released to fulfilment|The order moves on/);
    expect(await ticketStatus(id)).toBe('resolved');
    // The navigation's ticket count follows, out of band: one open ticket fewer.
    const open = await t.database.db.selectFrom('tickets').select('id').where('status', 'in', ['open', 'in_progress']).execute();
    expect(res.text).toContain(`<span class="count" id="nav-open-tickets" data-open-tickets hx-swap-oob="true">${open.length}</span>`);
    await eventually(() => orderStatus(orderId), (s) => s === 'released', 20_000);
    const outcome = await operator.htmx('get', `/tickets/${id}/outcome`);
    expect(outcome.text).toContain('Released to fulfilment.');
    expect(outcome.text).not.toContain('hx-trigger');
    // The change is audited with who and why.
    const event = await t.database.db.selectFrom('order_events').select(['actor', 'data']).where('order_id', '=', orderId).where('kind', '=', 'patched').executeTakeFirstOrThrow();
    expect(event.actor).toBe(`user:${operator.user.email}`);
    expect(event.data).toMatchObject({ reason: 'customer confirmed by e-mail', changes: [{ path: 'customer.phone', before: null, after: '+48 601 234 567' }] });

    // Someone else (or a second tab) presses Save and retry again: a calm message, not an error page.
    const again = await operator.htmx('post', `/tickets/${id}/retry`, { 'v.customer.phone': '+48 601 234 567' });
    expect(again.status).toBe(409);
    expect(again.text).toContain('Already handled.');
    expect(again.text).toContain(`Ticket #${id} was resolved by ${operator.user.email}`);
    expect(again.text).toContain(`<a href="/orders/${orderId}">`);
    expect(again.text).not.toContain('error-box');
    const plain = await operator.post(`/tickets/${id}/retry`, { 'v.customer.phone': '+48 601 234 567' });
    expect(plain.status).toBe(409);
    expect(plain.text).toContain('<html');
    expect(plain.text).toContain('Already handled.');
    // And the page itself says so.
    const page = await operator.get(`/tickets/${id}`);
    expect(page.text).toContain('Already handled.');
    expect(page.text).not.toContain('Save and retry');
  });

  it('once resolved: what it was opened for and what changed, nothing left to do, the diagram on where the order is now', async () => {
    const orderId = await postOrder(t, order((o) => (noPhone(o), (o.customer.email = 'anna@example,com'))));
    const id = await openTicketOf(t, orderId);
    await operator.htmx('post', `/tickets/${id}/retry`, { 'v.customer.phone': '+48 601 234 567', 'v.customer.email': 'anna@example,com' });
    const res = await operator.htmx('post', `/tickets/${id}/retry`, { 'v.customer.phone': '+48 601 234 567', 'v.customer.email': 'anna@example.com', reason: 'typo' });
    expect(await ticketStatus(id)).toBe('resolved');
    await eventually(() => orderStatus(orderId), (s) => s === 'released', 20_000);
    const page = await operator.get(`/tickets/${id}`);
    for (const html of [res.text, page.text]) {
      // Both issues it was opened for, not only the one the last retry still found.
      expect(html).toContain('<h2 id="failed-h">Opened for</h2>');
      expect(html).not.toContain('What had failed');
      const failed = html.slice(html.indexOf('id="ticket-failed"'), html.indexOf('id="ticket-todo"'));
      expect(failed).toMatch(/phone/i);
      expect(failed).toMatch(/e-mail/i);
      expect(failed).toContain('What was changed');
      expect(failed).toContain('E-mail (Customer): “anna@example,com” → “anna@example.com”');
      // Nothing left to do; the steps folded away.
      expect(html).toContain('Nothing left to do: the ticket is resolved.');
      expect(html).toMatch(/<details class="todo-was">\s*<summary>The steps it had<\/summary>/);
    }
    // The lifecycle comes along with the fix that closed the ticket, no step in red, focused on the order's wait.
    expect(res.text).toMatch(/<section class="card diagram-card" id="ticket-lifecycle" aria-labelledby="diagram-h" hx-swap-oob="true">/);
    const waiting = await t.database.db.selectFrom('process_instances').select('waiting_at').where('order_id', '=', orderId).where('parent_id', 'is', null).executeTakeFirstOrThrow();
    expect(waiting.waiting_at.length).toBeGreaterThan(0);
    expect(page.text).toContain('data-highlight-failed=""');
    expect(page.text).toContain(`data-focus="${waiting.waiting_at.join(' ')}"`);
    expect(page.text).not.toContain('data-focus="Task_ValidateAddress"');
    // An open ticket keeps its own step in red and in focus.
    const open = await operator.get(`/tickets/${await openTicketOf(t, await postOrder(t, order(noPhone)))}`);
    expect(open.text).toContain('data-focus="Task_ValidateAddress"');
    expect(open.text).toContain('data-highlight-failed="Task_ValidateAddress"');
    expect(open.text).toContain('<h2 id="failed-h">What failed</h2>');
    expect(open.text).not.toContain('Nothing left to do');
  });

  it('asks a failed payment for the later attempt’s status and reference, as its instructions say, and saves both', async () => {
    const orderId = await postOrder(t, order((o) => ((o.payment.status = 'failed'), (o.payment.reference = 'ch_old'))));
    const id = await openTicketOf(t, orderId);
    const page = await operator.get(`/tickets/${id}`);
    expect(page.text).toContain("status (&quot;paid&quot; or &quot;authorized&quot;) and reference");
    expect(page.text).toMatch(/<select id="f-payment-status" name="v.payment.status"/);
    expect(page.text).toMatch(/<input id="f-payment-reference" name="v.payment.reference" type="text" value="ch_old"/);
    const res = await operator.htmx('post', `/tickets/${id}/retry`, { 'v.payment.status': 'paid', 'v.payment.reference': 'ch_new', reason: 'paid on the second attempt' });
    expect(res.status).toBe(200);
    expect(await ticketStatus(id)).toBe('resolved');
    const saved = await t.database.db.selectFrom('orders').select('data').where('id', '=', orderId).executeTakeFirstOrThrow();
    expect((saved.data as Order).payment).toMatchObject({ status: 'paid', reference: 'ch_new' });
  });

  it('works without JavaScript: the plain form redirects to the ticket with the result line', async () => {
    const orderId = await postOrder(t, order(noPhone));
    const id = await openTicketOf(t, orderId);
    const res = await operator.post(`/tickets/${id}/retry`, { 'v.customer.phone': '+48 601 234 567', reason: '' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/tickets/${id}?done=retried`);
    const page = await operator.get(res.headers.location!);
    expect(page.text).toMatch(/class="outcome outcome-ok"/);
    expect(page.text).not.toContain('Already handled.');
  });

  it('refuses an action without the CSRF token, and analysts on every action', async () => {
    const orderId = await postOrder(t, order(noPhone));
    const id = await openTicketOf(t, orderId);
    const noToken = await operator.post(`/tickets/${id}/retry`, { _csrf: null, 'v.customer.phone': '+48 601 234 567' });
    expect(noToken.status).toBe(403);
    expect(await ticketStatus(id)).toBe('open');

    const page = await analyst.get(`/tickets/${id}`);
    expect(page.status).toBe(200);
    expect(page.text).not.toContain('Save and retry');
    expect(page.text).not.toContain('Cancel order…');
    expect(page.text).toContain('can read tickets but not work them');
    for (const [url, form] of [
      [`/tickets/${id}/retry`, { 'v.customer.phone': '+48 601 234 567' }],
      [`/tickets/${id}/assign`, { assignee: 'me' }],
      [`/tickets/${id}/comment`, { text: 'hello' }],
      [`/tickets/${id}/cancel-order`, { reason: 'no' }],
      [`/tickets/${id}/check`, { 'v.customer.phone': '1' }],
      ['/tickets/bulk', { ids: id, action: 'retry' }],
    ] as const) {
      const res = await analyst.post(url, form);
      expect(res.status, url).toBe(403);
    }
    expect(await ticketStatus(id)).toBe('open');
  });

  it('assigns, comments, and cancels the order with a reason (required)', async () => {
    const orderId = await postOrder(t, order(noPhone));
    const id = await openTicketOf(t, orderId);
    const assigned = await operator.post(`/tickets/${id}/assign`, { assignee: 'me' });
    expect(assigned.status).toBe(303);
    const page = await operator.get(assigned.headers.location!);
    expect(page.text).toContain('assigned to me');
    expect(page.text).toContain('Unassign');
    expect(page.text).toContain(`Assigned to ${operator.user.email}`);

    const comment = await operator.htmx('post', `/tickets/${id}/comment`, { text: `Called the customer ${MARKUP}` });
    expect(comment.status).toBe(200);
    expect(comment.text.trimStart()).toMatch(/^<section class="card" id="ticket-history"/);
    expect(comment.text).toContain('Called the customer &lt;script&gt;');

    const noReason = await operator.post(`/tickets/${id}/cancel-order`, { reason: '  ' });
    expect(noReason.status).toBe(422);
    expect(noReason.text).toContain('Say why the order is cancelled');
    expect(await orderStatus(orderId)).toBe('on_hold');
    const cancelled = await operator.post(`/tickets/${id}/cancel-order`, { reason: 'customer withdrew' });
    expect(cancelled.status).toBe(303);
    expect(await orderStatus(orderId)).toBe('cancelled');
    expect(await ticketStatus(id)).toBe('cancelled');
    expect((await operator.get(`/tickets/${id}?done=cancelled`)).text).toContain('Order cancelled; its open tickets are closed.');
    expect((await operator.get(`/tickets/${id}?done=constructor`)).text).not.toContain('[object Object]');
    // The same form from a stale tab: back on the ticket page (an address that reloads), saying what happened.
    const again = await operator.post(`/tickets/${id}/cancel-order`, { reason: 'customer withdrew' });
    expect(again.status).toBe(303);
    expect(again.headers.location).toBe(`/tickets/${id}?refused=order_closed`);
    const refused = await operator.get(again.headers.location!);
    expect(refused.text).toMatch(/Order TQ-[^ ]+ was not cancelled: it is cancelled already\./);
    expect(refused.text).toContain('Already handled.');
    expect((await operator.get(`/tickets/${id}?refused=constructor`)).status).toBe(200);
  });

  it('completes a manual task with its form', async () => {
    const orderId = await postOrder(t, order((o) => ((o.totals = { subtotal: '20000.00', shipping: '0.00', tax: '0.00', grandTotal: '20000.00' }), (o.lines = [{ sku: 'BIG', name: 'Big', quantity: 1, unitPrice: '20000.00', taxRate: '0.23' }]), (o.payment.amount = '20000.00'))));
    const id = await openTicketOf(t, orderId);
    const page = await operator.get(`/tickets/${id}`);
    expect(page.text).toContain('Complete the task');
    expect(page.text).toMatch(/<input type="radio" name="v.approved" value="yes" required>/);
    const missing = await operator.post(`/tickets/${id}/complete`, {});
    expect(missing.status).toBe(422);
    expect(missing.text).toContain('✗');
    const done = await operator.post(`/tickets/${id}/complete`, { 'v.approved': 'yes', 'v.note': 'checked with sales' });
    expect(done.status).toBe(303);
    expect(await ticketStatus(id)).toBe('resolved');
    await eventually(() => orderStatus(orderId), (s) => s === 'released', 20_000);
  });

  it('shows a customer name with markup as text on the queue and the ticket page', async () => {
    const orderId = await postOrder(t, order((o) => ((o.customer.name = MARKUP), noPhone(o))));
    const id = await openTicketOf(t, orderId);
    const queue = await operator.get(`/tickets?q=${encodeURIComponent('<script>')}`);
    expect(rowIds(queue.text)).toContain(id);
    const page = await operator.get(`/tickets/${id}`);
    for (const html of [queue.text, page.text]) {
      expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src&#x3D;x onerror&#x3D;alert(2)&gt;');
      expect(html).not.toContain(MARKUP);
      expect(html).not.toContain('<img');
    }
  });
});

describe('the order page timeline', () => {
  it('tells a correction as field, before → after and why, and the lifecycle by its steps\' names', async () => {
    const orderId = await postOrder(t, order(noPhone));
    await openTicketOf(t, orderId);
    const patched = await t.http
      .patch(`/api/v1/orders/${orderId}`)
      .set('authorization', `Bearer ${t.token}`)
      .set('x-reason', 'customer called back')
      .send({ customer: { phone: '+48 601 234 567' } });
    expect(patched.status).toBe(200);
    const html = (await operator.get(`/orders/${orderId}`)).text;
    expect(html).toContain('Order data corrected');
    expect(html).toContain('Phone (Customer): empty → “+48 601 234 567” (why: customer called back)');
    expect(html).toContain('Reached “Validate address”');
    expect(html).toContain('script task');
    expect(html).not.toContain('Task_ValidateAddress ScriptTask');
    expect(html).not.toContain('&quot;path&quot;');
  });
});

describe('the order page data', () => {
  it('marks the fields open tickets find wrong, not only the empty ones, and lists them with their tickets', async () => {
    const orderId = await postOrder(t, order((o) => (o.customer.email = 'anna@example')));
    const ticketId = await openTicketOf(t, orderId);
    const html = (await operator.get(`/orders/${orderId}`)).text;
    expect(html).toContain('<dt>E-mail</dt><dd class="at-fault"><a href="mailto:anna@example">anna@example</a></dd>');
    expect(html).toMatch(new RegExp(`<li><span class="at-fault">⚠ E-mail \\(Customer\\)</span>: [^<]+ <a href="/tickets/${ticketId}">ticket #${ticketId}</a></li>`));
    expect(html).toContain('<dt>Phone</dt><dd>');
  });
});

describe('bulk actions', () => {
  it('retries the selected tickets in the background with a progress bar, then lists the result per ticket', async () => {
    const orderIds = await Promise.all([postOrder(t, order(noPhone)), postOrder(t, order(noPhone)), postOrder(t, order(noPhone))]);
    const ids = await Promise.all(orderIds.map((id) => openTicketOf(t, id)));
    // Two orders were corrected elsewhere (the channel resent the phone); the third still lacks it.
    for (const orderId of orderIds.slice(0, 2)) {
      const row = await t.database.db.selectFrom('orders').select('data').where('id', '=', orderId).executeTakeFirstOrThrow();
      const data = row.data as Order;
      await t.database.db.updateTable('orders').set({ data: JSON.stringify({ ...data, customer: { ...data.customer, phone: '+48 601 234 567' } }) }).where('id', '=', orderId).execute();
    }
    const started = await operator.htmx('post', '/tickets/bulk', { ids: ids as unknown as string, action: 'retry' });
    expect(started.status).toBe(200);
    expect(started.text).toMatch(/<section id="bulk-progress"/);
    expect(started.text).toMatch(/<progress max="3" value="\d"/);
    const opId = /hx-get="\/tickets\/bulk\/([0-9a-f-]{36})"/.exec(started.text)?.[1] ?? /\/tickets\/bulk\/([0-9a-f-]{36})/.exec(started.text)![1]!;
    const done = await eventually(() => operator.htmx('get', `/tickets/bulk/${opId}`), (r) => r.text.includes('data-bulk-status="done"'), 20_000);
    expect(done.text).toContain('<progress max="3" value="3"');
    expect(done.text).not.toContain('hx-trigger="every 1s"');
    expect(done.headers['hx-trigger']).toBe('tickets-changed');
    expect(done.text).toContain(`<a href="/tickets/${ids[0]}">#${ids[0]}</a> ✓ resolved`);
    // A retry that did not fix the step is not reported as a success.
    expect(done.text).toContain(`<li class="result-warn"><a href="/tickets/${ids[2]}">#${ids[2]}</a> ! still failing`);
    // And says why, in words: the ticket's issue as it stands.
    expect(done.text).toMatch(new RegExp(`#${ids[2]}</a> ! still failing: The customer has no phone number`));
    expect(done.text).toMatch(/2 resolved, <span class="warn">1 still failing<\/span>\./);
    expect(await Promise.all(ids.map(ticketStatus))).toEqual(['resolved', 'resolved', 'open']);

    // Without JavaScript: a redirect to the progress page; nothing selected is explained.
    const plain = await operator.post('/tickets/bulk', { ids: ids[2]!, action: 'assign', assignTo: 'me' });
    expect(plain.status).toBe(303);
    expect(plain.headers.location).toMatch(/^\/tickets\/bulk\/[0-9a-f-]{36}$/);
    const empty = await operator.htmx('post', '/tickets/bulk', { action: 'retry' });
    expect(empty.status).toBe(422);
    expect(empty.text).toContain('Select at least one ticket.');
    const noReason = await operator.htmx('post', '/tickets/bulk', { ids: ids[2]!, action: 'cancel', reason: '' });
    expect(noReason.status).toBe(422);
    expect(noReason.text).toContain('needs a reason');
  });
});

describe('group fix', () => {
  it('groups tickets by step, problem and field, previews a normalisation without writing, and applies it', async () => {
    const postal = (code: string) => order((o) => (o.shippingAddress!.postalCode = code), 'GF');
    const orderIds = await Promise.all([postOrder(t, postal('00838')), postOrder(t, postal('01234')), postOrder(t, postal(' 31 337 ')), postOrder(t, postal('0083'))]);
    const ids = await Promise.all(orderIds.map((id) => openTicketOf(t, id)));

    const groups = await operator.get('/tickets/groups');
    expect(groups.status).toBe(200);
    expect(groups.text).toContain('Postal code invalid — Validate address — 4 tickets');
    const link = decode(/<a href="(\/tickets\/groups\/fix\?[^"]*POSTAL_CODE_INVALID[^"]*)" class="button-secondary">Fix all like this…<\/a>/.exec(groups.text)![1]!);

    const form = await operator.get(link);
    expect(form.status).toBe(200);
    expect(form.text).toContain('value="postal-separator" checked');

    const preview = await operator.get(`${link}&kind=postal-separator`);
    expect(preview.status).toBe(200);
    const table = /<table class="table zebra compact" id="group-preview-table">[\s\S]*?<\/table>/.exec(preview.text)![0];
    expect(table).toMatch(/<code class="before">00838<\/code><\/td>\s*<td><code class="after">00-838<\/code><\/td>\s*<td><span class="check-ok">✓ would pass<\/span>/);
    expect(table).toMatch(/<code class="before"> 31 337 <\/code><\/td>\s*<td><code class="after">31-337<\/code>/);
    expect(table).toMatch(/<code class="before">0083<\/code><\/td>\s*<td><code class="after">0083<\/code><\/td>\s*<td><span class="muted">no change<\/span>/);
    expect(preview.text).toContain('3 would pass');
    expect(preview.text).toContain('Apply to 4');
    // Nothing written by the preview.
    expect(await Promise.all(ids.map(ticketStatus))).toEqual(['open', 'open', 'open', 'open']);
    const before = await t.database.db.selectFrom('orders').select('data').where('id', '=', orderIds[0]!).executeTakeFirstOrThrow();
    expect((before.data as Order).shippingAddress!.postalCode).toBe('00838');

    // A value that would not pass shows why, per order.
    const setBad = await operator.htmx('get', `${link}&kind=set&value=${encodeURIComponent('1234')}`);
    expect(setBad.text).not.toContain('<html');
    expect(setBad.text).toMatch(/<span class="check-bad">✗ [^<]+<\/span>/);
    expect(setBad.text).toContain('0 would pass');

    // Analysts may look but not apply.
    const analystPreview = await analyst.get(`${link}&kind=postal-separator`);
    expect(analystPreview.text).not.toContain('Apply to');
    const params = new URL(link, 'http://x').searchParams;
    const body = { element: params.get('element')!, code: params.get('code')!, field: params.get('field')!, kind: 'postal-separator', value: '', reason: 'hyphen missing' };
    expect((await analyst.post('/tickets/groups/apply', body)).status).toBe(403);

    const applied = await operator.htmx('post', '/tickets/groups/apply', body);
    expect(applied.status).toBe(200);
    const opId = /\/tickets\/bulk\/([0-9a-f-]{36})/.exec(applied.text)![1]!;
    const done = await eventually(() => operator.htmx('get', `/tickets/bulk/${opId}`), (r) => r.text.includes('data-bulk-status="done"'), 20_000);
    expect(done.text).toContain('Group fix');
    expect(done.text).toContain(`#${ids[3]}</a> ✓ unchanged`);
    expect(await Promise.all(ids.map(ticketStatus))).toEqual(['resolved', 'resolved', 'resolved', 'open']);
    const after = await t.database.db.selectFrom('orders').select('data').where('id', '=', orderIds[0]!).executeTakeFirstOrThrow();
    expect((after.data as Order).shippingAddress!.postalCode).toBe('00-838');
    const audit = await t.database.db.selectFrom('order_events').select(['actor', 'data']).where('order_id', '=', orderIds[0]!).where('kind', '=', 'patched').executeTakeFirstOrThrow();
    expect(audit).toMatchObject({ actor: `user:${operator.user.email}`, data: { reason: 'hyphen missing' } });
  });
});

describe('dashboard', () => {
  it('shows open tickets per queue with the oldest age, the week’s top problems and the 24 h chart', async () => {
    const res = await operator.get('/');
    expect(res.status).toBe(200);
    expect(res.text).toContain('id="dashboard-tickets"');
    expect(res.text).toMatch(/<a href="\/tickets\?queue&#x3D;address">address<\/a><\/td><td class="num">\d+<\/td><td class="num"[^>]*>(under 1 min|\d+ (min|h))<\/td>/);
    expect(res.text).toMatch(/<h2 id="dash-problems">Most frequent problems this week<\/h2>\s*<ol class="problems">\s*<li><a href="\/tickets\/groups\/fix\?/);
    expect(res.text).toMatch(/<svg class="chart" viewBox="0 0 480 140" role="img"/);
    expect((res.text.match(/<rect class="bar-opened"/g) ?? []).length).toBe(24);
    expect(res.text).toMatch(/<desc id="chart-desc">[1-9]\d* opened and [1-9]\d* resolved/);
  });
});
