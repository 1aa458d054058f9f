import { sql } from 'kysely';
import type { Response } from 'supertest';
import type supertest from 'supertest';
import { expect } from 'vitest';
import { createUser, issueToken } from '../../src/runtime/identity.ts';
import { startMigration } from '../../src/runtime/migration.ts';
import type { Role } from '../../src/db/tables/users.table.ts';
import { validOrder } from '../fixtures/orders.ts';
import { deploy, eventually, fixture } from '../integration/engine/helpers.ts';
import type { TestApp } from './app.ts';
import { CONSOLE_PASSWORD, createConsoleUser, type ConsoleUser } from './console.ts';

/**
 * Every route of the app with a request that reaches its handler: real ids (an order on hold with its
 * ticket, a manual task, a deployed process with a migration, users to change), and bodies of the shape
 * the route accepts. test/integration/access-matrix.test.ts and csrf-matrix.test.ts send these as each
 * principal; a route without an entry here fails both.
 */

export interface World {
  /** An order on hold, and its open validation ticket (PHONE_MISSING): read, retried, assigned, commented. */
  order: string;
  ticket: string;
  /** The lifecycle instance of `order`. */
  instance: string;
  /** Validation tickets whose orders may be cancelled: from the console and through the API. */
  cancelTicket: string;
  apiCancelOrder: string;
  /** An order on hold that PATCH fixes. */
  patchOrder: string;
  /** Manual tasks (user task "approve" of the approval process): completed from the console and the API. */
  manualTicket: string;
  apiManualTicket: string;
  /** A group of POSTAL_CODE_INVALID tickets that one change can fix. */
  group: { element: string; code: string; field: string };
  bulk: string;
  migration: string;
  /** Users an administrator changes: a role, disabling, enabling (starts disabled), a token to revoke. */
  roleVictim: string;
  disableVictim: string;
  enableVictim: string;
  tokenVictim: { user: string; token: string };
  /** Someone to log in as. */
  loginUser: ConsoleUser;
}

/** What to send: the path with real ids, and a body (JSON for the API, form fields for the console, or BPMN XML). */
export interface RouteRequest {
  path: string;
  json?: unknown;
  form?: Record<string, string>;
  xml?: string;
  /** Needs a session of its own (log in, log out): never the shared browser's. */
  fresh?: boolean;
}

export const routeKey = (method: string, url: string) => `${method} ${url}`;

let serial = 0;
const next = () => `${Date.now().toString(36)}-${++serial}`;

/** A minimal executable process whose name changes each time, so that every deploy is a new version. */
export function deployableXml(): string {
  const name = `Access check ${next()}`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs-access" targetNamespace="urn:test">
  <bpmn:process id="access-check" name="${name}" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>
`;
}

/** The request that reaches each route's handler, by `METHOD url` as fastify registered it. */
export function routeRequests(w: World, lifecycleXml: string): Record<string, () => RouteRequest> {
  const groupQuery = new URLSearchParams(w.group).toString();
  return {
    // Open to anyone.
    'GET /assets/*': () => ({ path: '/assets/console.css' }),
    'GET /login': () => ({ path: '/login' }),
    'POST /login': () => ({ path: '/login', form: { email: w.loginUser.email, password: w.loginUser.password }, fresh: true }),
    'POST /logout': () => ({ path: '/logout', form: {}, fresh: true }),
    'GET /healthz': () => ({ path: '/healthz' }),
    'GET /readyz': () => ({ path: '/readyz' }),
    'GET /metrics': () => ({ path: '/metrics' }),
    'GET /api/v1/openapi.json': () => ({ path: '/api/v1/openapi.json' }),

    // Console: orders and the dashboard.
    'GET /': () => ({ path: '/' }),
    'GET /orders': () => ({ path: '/orders' }),
    'GET /orders/:id': () => ({ path: `/orders/${w.order}` }),
    'GET /orders/:id/diagram.bpmn': () => ({ path: `/orders/${w.order}/diagram.bpmn` }),
    'POST /orders/:id/tags': () => ({ path: `/orders/${w.order}/tags`, form: { tag: `tag-${next()}` } }),
    'POST /orders/:id/tags/remove': () => ({ path: `/orders/${w.order}/tags/remove`, form: { tag: 'remove-me' } }),
    'POST /orders/:id/notes': () => ({ path: `/orders/${w.order}/notes`, form: { text: `note ${next()}` } }),

    // Console: users.
    'GET /admin/users': () => ({ path: '/admin/users' }),
    'POST /admin/users': () => ({ path: '/admin/users', form: { email: `made-${next()}@test.local`, name: 'Made', role: 'operator', password: 'a long enough password' } }),
    'GET /admin/users/:id': () => ({ path: `/admin/users/${w.roleVictim}` }),
    'POST /admin/users/:id/role': () => ({ path: `/admin/users/${w.roleVictim}/role`, form: { role: 'operator' } }),
    'POST /admin/users/:id/disable': () => ({ path: `/admin/users/${w.disableVictim}/disable`, form: {} }),
    'POST /admin/users/:id/enable': () => ({ path: `/admin/users/${w.enableVictim}/enable`, form: {} }),
    'POST /admin/users/:id/tokens': () => ({ path: `/admin/users/${w.tokenVictim.user}/tokens`, form: { name: `token ${next()}` } }),
    'POST /admin/users/:id/tokens/:tokenId/revoke': () => ({ path: `/admin/users/${w.tokenVictim.user}/tokens/${w.tokenVictim.token}/revoke`, form: {} }),

    // Console: tickets.
    'GET /tickets': () => ({ path: '/tickets' }),
    'GET /tickets/groups': () => ({ path: '/tickets/groups' }),
    'GET /tickets/groups/fix': () => ({ path: `/tickets/groups/fix?${groupQuery}&kind=postal-separator` }),
    'POST /tickets/groups/apply': () => ({ path: '/tickets/groups/apply', form: { ...w.group, kind: 'postal-separator' } }),
    'POST /tickets/bulk': () => ({ path: '/tickets/bulk', form: { action: 'assign', ids: w.ticket, assignTo: 'me' } }),
    'GET /tickets/bulk/:id': () => ({ path: `/tickets/bulk/${w.bulk}` }),
    'GET /tickets/:id': () => ({ path: `/tickets/${w.ticket}` }),
    'GET /tickets/:id/outcome': () => ({ path: `/tickets/${w.ticket}/outcome` }),
    'POST /tickets/:id/retry': () => ({ path: `/tickets/${w.ticket}/retry`, form: { reason: `retry ${next()}` } }),
    'POST /tickets/:id/check': () => ({ path: `/tickets/${w.ticket}/check`, form: { 'v.customer.phone': '+48 601 234 567' } }),
    'POST /tickets/:id/complete': () => ({ path: `/tickets/${w.manualTicket}/complete`, form: { 'v.approved': 'yes' } }),
    'POST /tickets/:id/assign': () => ({ path: `/tickets/${w.ticket}/assign`, form: { assignee: 'me' } }),
    'POST /tickets/:id/comment': () => ({ path: `/tickets/${w.ticket}/comment`, form: { text: `comment ${next()}` } }),
    'POST /tickets/:id/cancel-order': () => ({ path: `/tickets/${w.cancelTicket}/cancel-order`, form: { reason: 'the customer called to cancel' } }),

    // Console: processes.
    'GET /processes': () => ({ path: '/processes' }),
    'GET /processes/-/feel-functions': () => ({ path: '/processes/-/feel-functions' }),
    'GET /processes/:key': () => ({ path: '/processes/order-lifecycle' }),
    'GET /processes/:key/versions': () => ({ path: '/processes/order-lifecycle/versions' }),
    'GET /processes/:key/diagram.bpmn': () => ({ path: '/processes/order-lifecycle/diagram.bpmn' }),
    'GET /processes/:key/heatmap.json': () => ({ path: '/processes/order-lifecycle/heatmap.json' }),
    'GET /processes/:key/elements/:elementId': () => ({ path: '/processes/approval/elements/approve?version=1' }),
    'GET /processes/new': () => ({ path: '/processes/new?key=access-new' }),
    'GET /processes/new/starter.bpmn': () => ({ path: '/processes/new/starter.bpmn?key=access-new' }),
    'GET /processes/:key/edit': () => ({ path: '/processes/order-lifecycle/edit' }),
    'POST /processes/deploy': () => ({ path: '/processes/deploy', xml: deployableXml() }),
    'POST /processes/:key/what-if': () => ({ path: '/processes/order-lifecycle/what-if?limit=5', xml: lifecycleXml }),
    'GET /processes/:key/migrate': () => ({ path: '/processes/approval/migrate?from=1' }),
    'POST /processes/:key/migrate': () => ({ path: '/processes/approval/migrate', form: { from: '1' } }),
    'GET /processes/:key/migrations/:id': () => ({ path: `/processes/approval/migrations/${w.migration}` }),

    // API: orders and messages.
    'POST /api/v1/orders': () => ({ path: '/api/v1/orders', json: validOrder({ externalId: 'ACCESS-NEW' }) }),
    'GET /api/v1/orders': () => ({ path: '/api/v1/orders' }),
    'GET /api/v1/orders/:id': () => ({ path: `/api/v1/orders/${w.order}` }),
    'PATCH /api/v1/orders/:id': () => ({ path: `/api/v1/orders/${w.patchOrder}`, json: { customer: { phone: '+48 601 234 567' } } }),
    'POST /api/v1/orders/:id/cancel': () => ({ path: `/api/v1/orders/${w.apiCancelOrder}/cancel`, json: { reason: 'the customer called to cancel' } }),
    'POST /api/v1/orders/validate': () => ({ path: '/api/v1/orders/validate', json: validOrder() }),
    'POST /api/v1/orders/:id/messages': () => ({ path: `/api/v1/orders/${w.order}/messages`, json: { name: 'access-check' } }),
    'POST /api/v1/messages': () => ({ path: '/api/v1/messages', json: { name: 'access-check', businessKey: 'nobody' } }),

    // API: processes.
    'GET /api/v1/processes': () => ({ path: '/api/v1/processes' }),
    'POST /api/v1/processes': () => ({ path: '/api/v1/processes', xml: deployableXml() }),
    'POST /api/v1/processes/:key/what-if': () => ({ path: '/api/v1/processes/order-lifecycle/what-if?limit=5', xml: lifecycleXml }),
    'GET /api/v1/processes/:key/versions/:version': () => ({ path: '/api/v1/processes/order-lifecycle/versions/1' }),
    'POST /api/v1/processes/:key/instances': () => ({ path: '/api/v1/processes/access-check/instances', json: { variables: { note: 'access' } } }),
    'GET /api/v1/instances/:id': () => ({ path: `/api/v1/instances/${w.instance}` }),
    'GET /api/v1/feel-functions': () => ({ path: '/api/v1/feel-functions' }),

    // API: tickets.
    'GET /api/v1/tickets': () => ({ path: '/api/v1/tickets' }),
    'GET /api/v1/tickets/:id': () => ({ path: `/api/v1/tickets/${w.ticket}` }),
    'POST /api/v1/tickets/:id/retry': () => ({ path: `/api/v1/tickets/${w.ticket}/retry`, json: { reason: `retry ${next()}` } }),
    'POST /api/v1/tickets/:id/dry-run': () => ({ path: `/api/v1/tickets/${w.ticket}/dry-run`, json: { patch: { customer: { phone: '+48 601 234 567' } } } }),
    'POST /api/v1/tickets/:id/complete': () => ({ path: `/api/v1/tickets/${w.apiManualTicket}/complete`, json: { variables: { approved: true } } }),
    'POST /api/v1/tickets/:id/assign': () => ({ path: `/api/v1/tickets/${w.ticket}/assign`, json: { assignee: 'me' } }),
    'POST /api/v1/tickets/:id/comments': () => ({ path: `/api/v1/tickets/${w.ticket}/comments`, json: { text: `comment ${next()}` } }),
    'POST /api/v1/tickets/bulk': () => ({ path: '/api/v1/tickets/bulk', json: { action: 'assign', ticketIds: [w.ticket], assignee: 'me' } }),
    'GET /api/v1/tickets/bulk/:id': () => ({ path: `/api/v1/tickets/bulk/${w.bulk}` }),
  };
}

export const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Routes that take an API token, not a console session: the API and the Prometheus endpoint. */
export const isApi = (url: string) => url.startsWith('/api/v1/') || url === '/metrics';

/** How a request presents itself: a bearer token (API), or a session cookie and a CSRF token (console). */
export interface Credentials {
  bearer?: string;
  cookie?: string;
  /** Sent as `x-csrf-token`, or as the `_csrf` form field like a plain form would. */
  csrf?: string;
  csrfIn?: 'header' | 'form';
  htmx?: boolean;
}

/** Send a route's request as someone. `bare` leaves the body out (a refusal must not depend on it). */
export function send(t: TestApp, method: string, req: RouteRequest, who: Credentials, options: { bare?: boolean } = {}): supertest.Test {
  let r = t.http[method.toLowerCase() as 'get' | 'head' | 'post' | 'patch'](req.path);
  if (who.bearer) r = r.set('authorization', `Bearer ${who.bearer}`);
  if (who.cookie) r = r.set('cookie', who.cookie);
  if (who.htmx) r = r.set('hx-request', 'true');
  const csrfInForm = who.csrf !== undefined && (who.csrfIn === 'form' && req.form !== undefined);
  if (who.csrf !== undefined && !csrfInForm) r = r.set('x-csrf-token', who.csrf);
  if (options.bare || SAFE_METHODS.has(method)) return r;
  if (req.xml !== undefined) return r.set('content-type', 'application/xml').send(req.xml);
  if (req.form !== undefined) {
    const fields = new URLSearchParams(req.form);
    if (csrfInForm) fields.set('_csrf', who.csrf!);
    return r.type('form').send(fields.toString());
  }
  if (req.json !== undefined) return r.send(req.json as object);
  return r;
}

// ── what no answer may contain ─────────────────────────────────────────────────

/** A frame of a V8 stack trace (`    at fn (file:///…/x.ts:1:2)`, `    at node:internal/…`), or an error followed by one. */
const STACK_TRACE = /^\s*at (?:async )?(?:\S+ \()?(?:file:\/\/|node:|\/)\S*:\d+(?::\d+)?\)?\s*$|\w*Error\b.*\n\s+at \S|\bat .+[(\s](?:file:\/\/)?\/?[\w./-]+\.(?:ts|js|mjs|cjs):\d+/m;
const SQL_TEXT = /\bselect\s.+\sfrom\s|\binsert into\b|\bupdate\s+"?\w+"?\s+set\b|\bdelete from\b|syntax error at or near|\bviolates\b|\brelation "|\bcolumn "/i;
const INTERNAL_PATH = /node_modules|\/work\/|\/src\/(?:http|runtime|engine|orders|db)\/|file:\/\//;

/** No stack trace, SQL or server path in a body, whatever the status. */
export function expectNoLeak(res: Response, what: string): void {
  const body = res.text ?? '';
  expect(body, `${what}: stack trace in the body`).not.toMatch(STACK_TRACE);
  expect(body, `${what}: SQL in the body`).not.toMatch(SQL_TEXT);
  expect(body, `${what}: a server path in the body`).not.toMatch(INTERNAL_PATH);
}

// ── the database, all of it ───────────────────────────────────────────────────

/** Columns that reads touch (a token's or a session's last use) are left out: they are not what a request changes. */
const FINGERPRINTED = [
  'users',
  'select id, user_id, name, token_hash, revoked_at from api_tokens',
  'select id, user_id, csrf_token from sessions',
  'login_attempts',
  'orders',
  'order_events',
  'order_notes',
  'tickets',
  'ticket_events',
  'deployments',
  'process_definitions',
  'process_instances',
  'instance_history',
  'received_messages',
  'job_effects',
  'bulk_operations',
  'process_migrations',
  'select id, name, state from pgboss.job',
];

/** One digest per table of every row, for "nothing changed" (a refused request must not even touch a row). */
export async function fingerprint(t: TestApp): Promise<Record<string, string>> {
  const parts = FINGERPRINTED.map((source, i) => {
    const from = source.startsWith('select ') ? `(${source})` : source;
    return `(select md5(coalesce(string_agg(x::text, '|' order by x::text), '')) from ${from} x) as t${i}`;
  });
  const { rows } = await sql<Record<string, string>>`select ${sql.raw(parts.join(', '))}`.execute(t.database.db);
  return Object.fromEntries(FINGERPRINTED.map((source, i) => [source.replace(/^select .* from /, ''), rows[0]![`t${i}`]!]));
}

// ── the world the requests run in ─────────────────────────────────────────────

async function post(t: TestApp, path: string, body: unknown) {
  const res = await t.http.post(path).set('authorization', `Bearer ${t.token}`).send(body as object);
  expect(res.status, `${path}: ${res.text.slice(0, 300)}`).toBeLessThan(300);
  return res.body;
}

/**
 * Orders on hold with their tickets, manual tasks, a second version of the approval process with a
 * migration and a bulk operation queued, users to change. Needs an app with workers and the default
 * processes; the workers are stopped at the end, so from then on every row that changes was changed
 * by a request.
 */
export async function buildWorld(t: TestApp): Promise<World> {
  const db = t.database.db;
  const approval = await fixture('approval.bpmn');
  expect((await deploy(t, approval)).status).toBe(201);
  expect((await deploy(t, deployableXml())).status).toBe(201);

  const noPhone = (externalId: string) => validOrder({ externalId, customer: { name: 'Anna Nowak', email: 'anna@example.com', phone: null } });
  const order = (await post(t, '/api/v1/orders', noPhone('ACCESS-HELD'))).id as string;
  const cancelOrder = (await post(t, '/api/v1/orders', noPhone('ACCESS-CANCEL'))).id as string;
  const apiCancelOrder = (await post(t, '/api/v1/orders', noPhone('ACCESS-API-CANCEL'))).id as string;
  const patchOrder = (await post(t, '/api/v1/orders', noPhone('ACCESS-PATCH'))).id as string;
  for (const externalId of ['ACCESS-POSTAL-1', 'ACCESS-POSTAL-2']) {
    const o = validOrder({ externalId });
    o.shippingAddress = { ...o.shippingAddress!, postalCode: '00838' };
    await post(t, '/api/v1/orders', o);
  }
  const manual = [];
  for (const customer of ['console', 'api']) manual.push((await post(t, '/api/v1/processes/approval/instances', { variables: { amount: 5, customer } })).id as string);

  const tickets = await eventually(
    () => db.selectFrom('tickets').select(['id', 'order_id', 'instance_id', 'kind', 'element_id', 'issues']).where('status', '=', 'open').execute(),
    (rows) => rows.filter((r) => r.kind === 'validation').length >= 6 && rows.filter((r) => r.kind === 'manual').length >= 2,
    30_000,
  );
  const validationOf = (orderId: string) => tickets.find((r) => r.order_id === orderId && r.kind === 'validation')!.id;
  const manualOf = (instanceId: string) => tickets.find((r) => r.instance_id === instanceId && r.kind === 'manual')!.id;
  const postal = tickets.find((r) => JSON.stringify(r.issues).includes('POSTAL_CODE_INVALID'))!;
  await t.workers!.stop();

  // A version 2 of the approval process, with the two waiting instances still on version 1.
  expect((await deploy(t, approval.replace('name="Approval"', 'name="Approval v2"'))).status).toBe(201);
  const migration = await startMigration(t.runtime.ctx, 'approval', 1, 'user:setup');
  const bulk = (await post(t, '/api/v1/tickets/bulk', { action: 'assign', ticketIds: [validationOf(order)], assignee: null })).id as string;
  await db.updateTable('orders').set({ tags: ['remove-me'] }).where('id', '=', order).execute();
  const instance = (await db.selectFrom('process_instances').select('id').where('order_id', '=', order).where('parent_id', 'is', null).executeTakeFirstOrThrow()).id;

  const victim = async (role: Role) => (await createUser(db, { email: `victim-${next()}@test.local`, password: CONSOLE_PASSWORD, role })).id;
  const enableVictim = await victim('operator');
  await db.updateTable('users').set({ disabled_at: new Date() }).where('id', '=', enableVictim).execute();
  const tokenUser = await victim('operator');
  const token = (await issueToken(db, tokenUser, 'to revoke')).id;

  return {
    order,
    ticket: validationOf(order),
    instance,
    cancelTicket: validationOf(cancelOrder),
    apiCancelOrder,
    patchOrder,
    manualTicket: manualOf(manual[0]!),
    apiManualTicket: manualOf(manual[1]!),
    group: { element: postal.element_id, code: 'POSTAL_CODE_INVALID', field: 'shippingAddress.postalCode' },
    bulk,
    migration,
    roleVictim: await victim('analyst'),
    disableVictim: await victim('operator'),
    enableVictim,
    tokenVictim: { user: tokenUser, token },
    loginUser: await createConsoleUser(t, 'operator'),
  };
}
