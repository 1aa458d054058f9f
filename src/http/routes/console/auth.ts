import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { destroySession, logIn } from '../../../runtime/sessions.ts';
import type { AppDeps } from '../../app.ts';
import { LOGIN_CSRF_COOKIE, loginCsrfToken } from '../../plugins/csrf.ts';
import { clearSessionCookie, cookieOptions, safeNext, SESSION_COOKIE, setSessionCookie } from '../../plugins/session.ts';

/** One message for an unknown e-mail, a wrong password and a disabled user: none reveals which it was. */
export const LOGIN_FAILED_MESSAGE = 'E-mail or password is wrong.';

const LoginQuery = Type.Object({ next: Type.Optional(Type.String({ maxLength: 2000 })) });
const LoginBody = Type.Object({
  email: Type.Optional(Type.String({ maxLength: 320 })),
  password: Type.Optional(Type.String({ maxLength: 1000 })),
  next: Type.Optional(Type.String({ maxLength: 2000 })),
  _csrf: Type.Optional(Type.String({ maxLength: 200 })),
});

export const authRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const secure = deps.config.secureCookies;

  app.get('/login', { schema: { querystring: LoginQuery } }, async (request, reply) => {
    const next = safeNext(request.query.next);
    if (request.session) return reply.redirect(next ?? '/', 303);
    return reply.page('auth/login', { title: 'Log in', next, email: '', csrfToken: loginCsrfToken(request, reply, secure) });
  });

  app.post('/login', { schema: { body: LoginBody }, config: { csrf: 'login' } }, async (request, reply) => {
    const { email = '', password = '' } = request.body;
    const next = safeNext(request.body.next);
    const form = { title: 'Log in', next, email, csrfToken: loginCsrfToken(request, reply, secure) };
    const result = await logIn(deps.db, {
      email,
      password,
      ip: request.ip,
      userAgent: request.headers['user-agent'] ?? null,
      previousToken: request.cookies[SESSION_COOKIE] ?? null,
    });
    if (result.outcome === 'limited') {
      const minutes = Math.ceil(result.retryAfterMs / 60_000);
      request.log.warn({ email, ip: request.ip }, 'login rate limit reached');
      reply.header('retry-after', String(Math.ceil(result.retryAfterMs / 1000)));
      return reply.page('auth/login', { ...form, error: `Too many failed attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.` }, { status: 429 });
    }
    if (result.outcome === 'wrong') {
      request.log.info({ ip: request.ip }, 'login failed');
      return reply.page('auth/login', { ...form, error: LOGIN_FAILED_MESSAGE }, { status: 401 });
    }
    request.log.info({ userId: result.user.id }, 'logged in');
    setSessionCookie(reply, result.session, secure);
    reply.clearCookie(LOGIN_CSRF_COOKIE, cookieOptions(secure));
    return reply.redirect(next ?? '/', 303);
  });

  app.post('/logout', { schema: { body: Type.Optional(Type.Object({ _csrf: Type.Optional(Type.String({ maxLength: 200 })) })) }, config: { csrf: 'if-session' } }, async (request, reply) => {
    const token = request.cookies[SESSION_COOKIE];
    if (token) await destroySession(deps.db, token);
    clearSessionCookie(reply, secure);
    if (request.headers['hx-request'] === 'true') return reply.header('hx-redirect', '/login').code(204).send();
    return reply.redirect('/login', 303);
  });
};
