import { sql, type Kysely } from 'kysely';

// Frozen in time: imports nothing from src/.
//
// An API token's `prefix` is shown on the admin pages to tell tokens apart. For a generated token
// (`ordo_` and 43 random characters) its first nine characters give away 24 bits of 256; for a value an
// administrator chose (ORDO_BOOTSTRAP_TOKEN, `--value`) they can be most or all of the secret. Prefixes
// that are not a generated token's are blanked; from now on such tokens are stored without one.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`update api_tokens set prefix = '' where prefix !~ '^ordo_[A-Za-z0-9_-]{4}$'`.execute(db);
}

export async function down(): Promise<void> {
  // The blanked prefixes are not kept anywhere: nothing to bring back.
}
