import { sql } from 'kysely';
import type { Db, DbOrTx } from '../db/database.ts';
import { isUuid } from './orders.ts';

/**
 * What operators add to an order besides fixing it: tags (in orders.tags, for filtering) and notes.
 * Every change is written to order_events in the same transaction, so the timeline shows who did it.
 */

export const MAX_TAG_LENGTH = 40;
export const MAX_TAGS_PER_ORDER = 30;
export const MAX_NOTE_LENGTH = 4000;

export class AnnotationError extends Error {
  constructor(
    readonly code: 'ORDER_NOT_FOUND' | 'TAG_INVALID' | 'TOO_MANY_TAGS' | 'NOTE_EMPTY' | 'NOTE_TOO_LONG',
    message: string,
  ) {
    super(message);
  }
}

/** Tags are compared as typed by many people: trimmed, lower-case, inner spaces as dashes. */
export function normaliseTag(text: string): string | null {
  const tag = text.normalize('NFKC').trim().toLowerCase().replace(/\s+/g, '-');
  if (tag === '' || tag.length > MAX_TAG_LENGTH) return null;
  return /^[\p{L}\p{N}][\p{L}\p{N}._:/-]*$/u.test(tag) ? tag : null;
}

async function lockOrderTags(trx: DbOrTx, orderId: string): Promise<string[]> {
  if (!isUuid(orderId)) throw new AnnotationError('ORDER_NOT_FOUND', 'No such order.');
  const row = await trx.selectFrom('orders').select('tags').where('id', '=', orderId).forUpdate().executeTakeFirst();
  if (!row) throw new AnnotationError('ORDER_NOT_FOUND', 'No such order.');
  return row.tags;
}

/** Adds a tag; false when the order had it already (nothing written). */
export async function addTag(db: Db, orderId: string, text: string, actor: string): Promise<{ tag: string; changed: boolean }> {
  const tag = normaliseTag(text);
  if (!tag) throw new AnnotationError('TAG_INVALID', `A tag is 1–${MAX_TAG_LENGTH} letters, digits, dashes, dots or colons, starting with a letter or digit.`);
  return db.transaction().execute(async (trx) => {
    const tags = await lockOrderTags(trx, orderId);
    if (tags.includes(tag)) return { tag, changed: false };
    if (tags.length >= MAX_TAGS_PER_ORDER) throw new AnnotationError('TOO_MANY_TAGS', `An order carries at most ${MAX_TAGS_PER_ORDER} tags.`);
    await trx
      .updateTable('orders')
      .set({ tags: sql<string[]>`array_append(tags, ${tag}::text)`, updated_at: new Date() })
      .where('id', '=', orderId)
      .execute();
    await trx.insertInto('order_events').values({ order_id: orderId, actor, kind: 'tag_added', data: JSON.stringify({ tag }) }).execute();
    return { tag, changed: true };
  });
}

export async function removeTag(db: Db, orderId: string, text: string, actor: string): Promise<{ tag: string; changed: boolean }> {
  const tag = normaliseTag(text) ?? text;
  return db.transaction().execute(async (trx) => {
    const tags = await lockOrderTags(trx, orderId);
    if (!tags.includes(tag)) return { tag, changed: false };
    await trx
      .updateTable('orders')
      .set({ tags: sql<string[]>`array_remove(tags, ${tag}::text)`, updated_at: new Date() })
      .where('id', '=', orderId)
      .execute();
    await trx.insertInto('order_events').values({ order_id: orderId, actor, kind: 'tag_removed', data: JSON.stringify({ tag }) }).execute();
    return { tag, changed: true };
  });
}

export interface OrderNote {
  id: string;
  author: string;
  text: string;
  createdAt: Date;
}

export async function addNote(db: Db, orderId: string, input: { text: string; author: string; authorId: string | null }): Promise<OrderNote> {
  const text = input.text.replace(/\r\n/g, '\n').trim();
  if (text === '') throw new AnnotationError('NOTE_EMPTY', 'Write something first.');
  if (text.length > MAX_NOTE_LENGTH) throw new AnnotationError('NOTE_TOO_LONG', `Notes are limited to ${MAX_NOTE_LENGTH} characters.`);
  if (!isUuid(orderId)) throw new AnnotationError('ORDER_NOT_FOUND', 'No such order.');
  return db.transaction().execute(async (trx) => {
    const order = await trx.selectFrom('orders').select('id').where('id', '=', orderId).executeTakeFirst();
    if (!order) throw new AnnotationError('ORDER_NOT_FOUND', 'No such order.');
    const note = await trx
      .insertInto('order_notes')
      .values({ order_id: orderId, author: input.author, author_id: input.authorId, text })
      .returning(['id', 'author', 'text', 'created_at'])
      .executeTakeFirstOrThrow();
    await trx.insertInto('order_events').values({ order_id: orderId, actor: `user:${input.author}`, kind: 'note_added', data: JSON.stringify({ noteId: note.id }) }).execute();
    return { id: note.id, author: note.author, text: note.text, createdAt: note.created_at };
  });
}

/** Newest first; an order with more notes than this is a conversation for another tool. */
export async function listNotes(db: DbOrTx, orderId: string, limit = 200): Promise<OrderNote[]> {
  if (!isUuid(orderId)) return [];
  const rows = await db
    .selectFrom('order_notes')
    .select(['id', 'author', 'text', 'created_at'])
    .where('order_id', '=', orderId)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ id: r.id, author: r.author, text: r.text, createdAt: r.created_at }));
}
