import { sql, type Kysely } from 'kysely';

// Frozen in time: imports nothing from src/.
export async function up(db: Kysely<any>): Promise<void> {
  // Group fixes run as bulk operations too: one transformation of one field, applied ticket by ticket.
  await sql`alter table bulk_operations drop constraint if exists bulk_operations_action_check`.execute(db);
  await sql`alter table bulk_operations add constraint bulk_operations_action_check check (action in ('retry', 'assign', 'cancel', 'patch'))`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`delete from bulk_operations where action = 'patch'`.execute(db);
  await sql`alter table bulk_operations drop constraint if exists bulk_operations_action_check`.execute(db);
  await sql`alter table bulk_operations add constraint bulk_operations_action_check check (action in ('retry', 'assign', 'cancel'))`.execute(db);
}
