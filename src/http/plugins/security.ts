import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * Security headers on every answer (helmet), with a Content-Security-Policy the console's pages pass:
 * scripts only from Ordo's own origin (no inline script anywhere in views/), styles from Ordo plus
 * inline style attributes (bpmn-js sets them on the diagram), images from Ordo or data: URLs, nothing
 * framed, forms posting only back to Ordo.
 */
export const CONTENT_SECURITY_POLICY = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:'],
  // Icon fonts bundled by esbuild may arrive inlined as data: URLs.
  'font-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'frame-ancestors': ["'none'"],
  'form-action': ["'self'"],
};

/**
 * The headers helmet sets with Ordo's options, worked out once: they depend on nothing in the request
 * (no nonces), and running helmet's middleware per request parsed the CSP directives again each time
 * (@fastify/helmet builds it per request: 4 % of the web process's CPU under a burst of orders).
 */
export function securityHeaders(opts: { secureCookies: boolean }): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const collect = {
    setHeader: (name: string, value: string | number | readonly string[]) => {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name.toLowerCase()];
    },
  };
  let failed: unknown = null;
  helmet({
    contentSecurityPolicy: {
      // Not helmet's defaults: those add upgrade-insecure-requests, which breaks plain-HTTP installs.
      useDefaults: false,
      directives: CONTENT_SECURITY_POLICY,
    },
    // HSTS only where Ordo is served over HTTPS (the same switch as the Secure cookie flag).
    strictTransportSecurity: opts.secureCookies ? { maxAge: 180 * 24 * 60 * 60, includeSubDomains: false } : false,
    referrerPolicy: { policy: 'same-origin' },
    frameguard: { action: 'deny' },
  })({} as IncomingMessage, collect as unknown as ServerResponse, (err?: unknown) => {
    failed = err ?? null;
  });
  if (failed) throw failed;
  return Object.freeze(headers);
}

export const securityPlugin = fp(
  async (app: FastifyInstance, opts: { secureCookies: boolean }) => {
    const headers = securityHeaders(opts);
    app.addHook('onRequest', (_request, reply, done) => {
      reply.headers(headers);
      done();
    });
  },
  { name: 'ordo-security' },
);
