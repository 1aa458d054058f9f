import helmet from '@fastify/helmet';
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

export const securityPlugin = fp(
  async (app: FastifyInstance, opts: { secureCookies: boolean }) => {
    await app.register(helmet, {
      global: true,
      contentSecurityPolicy: {
        // Not helmet's defaults: those add upgrade-insecure-requests, which breaks plain-HTTP installs.
        useDefaults: false,
        directives: CONTENT_SECURITY_POLICY,
      },
      // HSTS only where Ordo is served over HTTPS (the same switch as the Secure cookie flag).
      strictTransportSecurity: opts.secureCookies ? { maxAge: 180 * 24 * 60 * 60, includeSubDomains: false } : false,
      referrerPolicy: { policy: 'same-origin' },
      frameguard: { action: 'deny' },
    });
  },
  { name: 'ordo-security' },
);
