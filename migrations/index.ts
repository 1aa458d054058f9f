import type { Migration } from 'kysely';
import * as m0001 from './0001_create_identity.ts';
import * as m0002 from './0002_create_orders.ts';
import * as m0003 from './0003_create_engine.ts';
import * as m0004 from './0004_create_sessions.ts';
import * as m0005 from './0005_create_bulk_operations.ts';
import * as m0006 from './0006_allow_bulk_patch.ts';
import * as m0007 from './0007_create_process_migrations.ts';
import * as m0008 from './0008_add_console_indexes.ts';
import * as m0009 from './0009_trim_write_path.ts';
import * as m0010 from './0010_history_steps.ts';
import * as m0011 from './0011_intake_definition_guard.ts';
import * as m0012 from './0012_hide_chosen_token_prefixes.ts';
import * as m0013 from './0013_tally_queue_codes.ts';

/**
 * Every migration, by name, in order. Listed statically (not read from the folder at run time) so the
 * same list works under tsx, vitest and any bundler. A new migration adds a line here.
 */
export const migrations: Record<string, Migration> = {
  '0001_create_identity': m0001,
  '0002_create_orders': m0002,
  '0003_create_engine': m0003,
  '0004_create_sessions': m0004,
  '0005_create_bulk_operations': m0005,
  '0006_allow_bulk_patch': m0006,
  '0007_create_process_migrations': m0007,
  '0008_add_console_indexes': m0008,
  '0009_trim_write_path': m0009,
  '0010_history_steps': m0010,
  '0011_intake_definition_guard': m0011,
  '0012_hide_chosen_token_prefixes': m0012,
  '0013_tally_queue_codes': m0013,
};
