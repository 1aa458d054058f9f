import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ROLES } from '../../../db/tables/users.table.ts';
import { createUser, IdentityError, issueToken } from '../../../runtime/identity.ts';
import { getUser, listTokens, listUsers, revokeUserToken, setUserDisabled, setUserRole, UserAdminError } from '../../../runtime/users.ts';
import type { AppDeps } from '../../app.ts';
import { requirePermission } from '../../plugins/auth.ts';
import { HttpProblem } from '../../problem.ts';
import { messageFor } from './format.ts';

const Csrf = { _csrf: Type.Optional(Type.String({ maxLength: 200 })) };
const ListQuery = Type.Object({
  after: Type.Optional(Type.String({ maxLength: 320 })),
  done: Type.Optional(Type.String({ maxLength: 40 })),
  refused: Type.Optional(Type.String({ maxLength: 40 })),
  /** The role an administrator asked to give themselves, to confirm first. */
  confirm: Type.Optional(Type.String({ maxLength: 20 })),
});
const UserParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const TokenParams = Type.Object({ id: Type.String({ maxLength: 64 }), tokenId: Type.String({ maxLength: 64 }) });
const NewUserBody = Type.Object({
  email: Type.String({ maxLength: 320 }),
  name: Type.Optional(Type.String({ maxLength: 200 })),
  role: Type.String({ maxLength: 20 }),
  password: Type.String({ maxLength: 1000 }),
  ...Csrf,
});
/** `confirm=self`: the administrator confirmed changing their own role (which takes this page away from them). */
const RoleBody = Type.Object({ role: Type.String({ maxLength: 20 }), confirm: Type.Optional(Type.String({ maxLength: 10 })), ...Csrf });
const TokenBody = Type.Object({ name: Type.Optional(Type.String({ maxLength: 100 })), ...Csrf });
const CsrfOnly = Type.Optional(Type.Object(Csrf));

/** Confirmations after a redirect, by key: the URL never carries text that ends up on the page. */
const DONE: Record<string, string> = {
  created: 'User created.',
  role: 'Role changed.',
  disabled: 'User disabled; their sessions have ended and their API tokens no longer work.',
  enabled: 'User enabled again.',
  revoked: 'Token revoked.',
};

/**
 * Refusals after a redirect, by key, as the user page words them. A refused change redirects like a done
 * one (post/redirect/get), so the address bar and the history keep a page that can be reloaded.
 */
const REFUSED: Record<Exclude<UserAdminError['code'], 'USER_NOT_FOUND'>, (user: { email: string }) => string> = {
  ROLE_INVALID: () => 'Role must be operator, analyst or admin.',
  LAST_ADMIN: (u) => `${u.email} is the only active administrator; make someone else an administrator first.`,
  SELF: () => 'You cannot disable your own account.',
};

const roles = (selected?: string) => ROLES.map((value) => ({ value, selected: value === selected }));

/** `/admin/users`: administrators add users, set roles, disable them and manage their API tokens. */
export const userAdminRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const { db } = deps;
  app.addHook('onRequest', requirePermission('users:admin'));

  async function renderList(request: FastifyRequest, reply: FastifyReply, extra: Record<string, unknown> = {}, status = 200) {
    const after = (request.query as { after?: string } | undefined)?.after;
    const page = await listUsers(db, { after });
    return reply.page(
      'admin/users',
      {
        title: 'Users',
        section: 'admin',
        users: page.items,
        nextUrl: page.nextAfter ? `/admin/users?after=${encodeURIComponent(page.nextAfter)}` : null,
        paged: !!after,
        roles: roles('operator'),
        form: { email: '', name: '', role: 'operator' },
        ...extra,
      },
      { status, fragment: 'admin/users-table' },
    );
  }

  async function renderUser(reply: FastifyReply, id: string, extra: Record<string, unknown> = {}, status = 200, refused?: string) {
    const user = await getUser(db, id);
    if (!user) throw new HttpProblem('NOT_FOUND', 'There is no such user.');
    const tokens = await listTokens(db, id);
    const error = messageFor<(user: { email: string }) => string>(REFUSED, refused?.toUpperCase())?.(user) ?? undefined;
    return reply.page('admin/user', { title: user.email, section: 'admin', user, tokens, roles: roles(user.role), error, ...extra }, { status, fragment: 'admin/user' });
  }

  app.get('/admin/users', { schema: { querystring: ListQuery } }, async (request, reply) => {
    return renderList(request, reply, { done: messageFor(DONE, request.query.done) });
  });

  app.post('/admin/users', { schema: { body: NewUserBody } }, async (request, reply) => {
    const { email, name, role, password } = request.body;
    try {
      const user = await createUser(db, { email, name, role, password });
      request.log.info({ userId: user.id, role, by: request.principal!.userId }, 'user created');
      return reply.redirect(`/admin/users/${user.id}?done=created`, 303);
    } catch (err) {
      if (!(err instanceof IdentityError)) throw err;
      const status = err.code === 'USER_EXISTS' ? 409 : 422;
      return renderList(request, reply, { formError: err.message, form: { email, name: name ?? '', role }, roles: roles(role) }, status);
    }
  });

  app.get('/admin/users/:id', { schema: { params: UserParams, querystring: ListQuery } }, async (request, reply) => {
    const { id } = request.params;
    const own = id === request.principal!.userId;
    // Only a real role other than admin needs asking: anything else is answered by the change itself.
    const confirmRole = own && request.query.confirm && request.query.confirm !== 'admin' && (ROLES as readonly string[]).includes(request.query.confirm) ? request.query.confirm : null;
    return renderUser(reply, id, { done: messageFor(DONE, request.query.done), own, confirmRole }, 200, request.query.refused);
  });

  /** A change's answer: where its action says (a `?done=` key on the user's page, or a path), or the refusal on the user's page. */
  async function guarded(reply: FastifyReply, id: string, action: () => Promise<string>) {
    try {
      const done = await action();
      return reply.redirect(done.startsWith('/') ? done : `/admin/users/${id}?done=${done}`, 303);
    } catch (err) {
      if (!(err instanceof UserAdminError)) throw err;
      if (err.code === 'USER_NOT_FOUND') throw new HttpProblem('NOT_FOUND', err.message);
      return reply.redirect(`/admin/users/${id}?refused=${err.code.toLowerCase()}`, 303);
    }
  }

  app.post('/admin/users/:id/role', { schema: { params: UserParams, body: RoleBody } }, async (request, reply) => {
    const { id } = request.params;
    const { role } = request.body;
    const own = id === request.principal!.userId;
    // An administrator giving up their own role loses this page: ask first (a page of its own, so it works without JavaScript).
    if (own && role !== 'admin' && (ROLES as readonly string[]).includes(role) && request.body.confirm !== 'self') {
      return reply.redirect(`/admin/users/${id}?confirm=${role}`, 303);
    }
    return guarded(reply, id, async () => {
      const change = await setUserRole(db, id, role);
      request.log.info({ userId: id, ...change, by: request.principal!.userId }, 'role changed');
      // Demoted: the user pages are no longer theirs to see; the dashboard is, and says what happened.
      return own && change.to !== 'admin' ? '/?done=own_role' : 'role';
    });
  });

  app.post('/admin/users/:id/disable', { schema: { params: UserParams, body: CsrfOnly } }, async (request, reply) => {
    return guarded(reply, request.params.id, async () => {
      await setUserDisabled(db, request.params.id, true, request.principal!.userId);
      request.log.info({ userId: request.params.id, by: request.principal!.userId }, 'user disabled');
      return 'disabled';
    });
  });

  app.post('/admin/users/:id/enable', { schema: { params: UserParams, body: CsrfOnly } }, async (request, reply) => {
    return guarded(reply, request.params.id, async () => {
      await setUserDisabled(db, request.params.id, false, request.principal!.userId);
      return 'enabled';
    });
  });

  app.post('/admin/users/:id/tokens', { schema: { params: UserParams, body: TokenBody } }, async (request, reply) => {
    const { id } = request.params;
    const user = await getUser(db, id);
    if (!user) throw new HttpProblem('NOT_FOUND', 'There is no such user.');
    const name = request.body.name?.trim() || 'console';
    const issued = await issueToken(db, id, name);
    request.log.info({ userId: id, tokenId: issued.id, by: request.principal!.userId }, 'API token issued');
    // Answered directly, not redirected: the token is shown this once and stored nowhere readable.
    return renderUser(reply, id, { newToken: { id: issued.id, name, token: issued.token } });
  });

  app.post('/admin/users/:id/tokens/:tokenId/revoke', { schema: { params: TokenParams, body: CsrfOnly } }, async (request, reply) => {
    const { id, tokenId } = request.params;
    const revoked = await revokeUserToken(db, id, tokenId);
    if (!revoked) throw new HttpProblem('NOT_FOUND', 'No such active token for this user.');
    request.log.info({ userId: id, tokenId, by: request.principal!.userId }, 'API token revoked');
    return reply.redirect(`/admin/users/${id}?done=revoked`, 303);
  });
};
