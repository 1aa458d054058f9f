import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import Handlebars from 'handlebars';
import { can, type Permission } from './auth.ts';

/**
 * Server-rendered pages, contact-app style: one URL answers the whole page for a plain request and only
 * the page's fragment for an htmx request, and both are rendered from the same partial.
 *
 *   views/layouts/main.hbs          the one layout; `{{{body}}}` is the only triple-stash in views/
 *   views/pages/<area>/<name>.hbs   a page's body, which includes its fragment partial
 *   views/partials/<area>/<x>.hbs   registered as `<area>/<x>`; `reply.page('orders/list')` answers an
 *                                   htmx request with the partial `orders/list` unless told otherwise
 *
 * Every `{{ }}` escapes: order data is shown as text, never as markup.
 */

export interface PageOptions {
  status?: number;
  /** The partial that answers an htmx request; defaults to the partial named like the page. */
  fragment?: string;
}

export interface ViewsOptions {
  root: string;
  helpers?: Record<string, Handlebars.HelperDelegate>;
  /** Data the layout needs on every full page (navigation counts...), computed per request. */
  layoutData?: (request: FastifyRequest) => Promise<object> | object;
}

declare module 'fastify' {
  interface FastifyReply {
    /** Render `views/pages/<name>.hbs` in the layout, or its fragment for an htmx request. */
    page(name: string, data?: Record<string, unknown>, options?: PageOptions): Promise<FastifyReply>;
    /** Render one partial on its own (an htmx answer to a form post, an error box). */
    fragment(partial: string, data?: Record<string, unknown>, options?: { status?: number }): Promise<FastifyReply>;
  }
}

/** An htmx request that swaps a fragment (boosted navigation and history restores want the whole page). */
export function wantsFragment(request: FastifyRequest): boolean {
  const h = request.headers;
  return h['hx-request'] === 'true' && h['hx-boosted'] !== 'true' && h['hx-history-restore-request'] !== 'true';
}

function templatesIn(dir: string, prefix = ''): Array<{ name: string; file: string }> {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const file = path.join(dir, e.name);
    if (e.isDirectory()) return templatesIn(file, `${prefix}${e.name}/`);
    return e.name.endsWith('.hbs') ? [{ name: prefix + e.name.slice(0, -4), file }] : [];
  });
}

function baseHelpers(): Record<string, Handlebars.HelperDelegate> {
  return {
    eq: (a: unknown, b: unknown) => a === b,
    ne: (a: unknown, b: unknown) => a !== b,
    not: (a: unknown) => !a,
    and: (...args: unknown[]) => args.slice(0, -1).every(Boolean),
    or: (...args: unknown[]) => args.slice(0, -1).some(Boolean),
    /** `{{#if (can "users:admin")}}`: the same permission table the routes enforce. */
    can(permission: string, options: Handlebars.HelperOptions) {
      const principal = (options.data?.root as { principal?: Parameters<typeof can>[0] } | undefined)?.principal ?? null;
      return can(principal, permission as Permission);
    },
    urlencode: (value: unknown) => encodeURIComponent(value == null ? '' : String(value)),
  };
}

export const viewsPlugin = fp(
  async (app: FastifyInstance, opts: ViewsOptions) => {
    const hbs = Handlebars.create();
    for (const [name, fn] of Object.entries({ ...baseHelpers(), ...opts.helpers })) hbs.registerHelper(name, fn);

    // Parsed once at start: a template syntax error stops the server at boot, not on some operator's click.
    const load = (file: string) => {
      const source = readFileSync(file, 'utf8');
      try {
        hbs.parse(source);
      } catch (err) {
        throw new Error(`${path.relative(opts.root, file)}: ${(err as Error).message}`);
      }
      return source;
    };
    const compile = (file: string) => hbs.compile(load(file), { preventIndent: true });
    const partials = new Map<string, Handlebars.TemplateDelegate>();
    for (const { name, file } of templatesIn(path.join(opts.root, 'partials'))) {
      const source = load(file);
      hbs.registerPartial(name, source);
      partials.set(name, hbs.compile(source, { preventIndent: true }));
    }
    const pages = new Map(templatesIn(path.join(opts.root, 'pages')).map(({ name, file }) => [name, compile(file)]));
    const layout = compile(path.join(opts.root, 'layouts', 'main.hbs'));

    const context = (request: FastifyRequest, data: Record<string, unknown>) => ({
      principal: request.principal,
      csrfToken: request.session?.csrfToken ?? null,
      path: request.url.split('?')[0],
      ...data,
    });
    const runtime = { allowProtoPropertiesByDefault: false, allowProtoMethodsByDefault: false };

    const send = (reply: FastifyReply, html: string, status: number) =>
      reply.code(status).header('content-type', 'text/html; charset=utf-8').header('vary', 'HX-Request').header('cache-control', 'no-store').send(html);

    app.decorateReply('fragment', async function (this: FastifyReply, partial: string, data: Record<string, unknown> = {}, options: { status?: number } = {}) {
      const template = partials.get(partial);
      if (!template) throw new Error(`No partial views/partials/${partial}.hbs`);
      return send(this, template(context(this.request, data), runtime), options.status ?? this.statusCode ?? 200);
    });

    app.decorateReply('page', async function (this: FastifyReply, name: string, data: Record<string, unknown> = {}, options: PageOptions = {}) {
      const status = options.status ?? 200;
      if (wantsFragment(this.request)) return this.fragment(options.fragment ?? name, data, { status });
      const page = pages.get(name);
      if (!page) throw new Error(`No page views/pages/${name}.hbs`);
      const ctx = { ...context(this.request, data), layout: opts.layoutData ? await opts.layoutData(this.request) : {} };
      const body = page(ctx, runtime);
      return send(this, layout({ ...ctx, body }, runtime), status);
    });
  },
  { name: 'ordo-views' },
);
