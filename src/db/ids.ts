import { randomFillSync } from 'node:crypto';
import { v7 } from 'uuid';

/**
 * The id of a new order or process instance: a UUID version 7 (RFC 9562), whose first 48 bits are the
 * time in milliseconds and the rest random. Ids made in a later millisecond sort after earlier ones, so
 * every index keyed by them (the primary keys, and `order_id` / `instance_id` in the instances, events,
 * job effects, tickets and history) grows at its right-hand end, like an index on a serial number: an
 * insert touches the same few pages as the one before. With random (version 4) ids each insert lands on
 * a random page of each such index: once the indexes outgrow the cache that is a read, and after every
 * checkpoint each page's first change writes the whole 8 kB page to the WAL. At a million orders that
 * made the WAL per order 4.7 times what it is on an empty database (docs/PERFORMANCE.md, session 8).
 *
 * The id tells the time the row was made to the millisecond, which `created_at` tells anyone who can
 * see the row anyway; nothing in Ordo relies on an id being unguessable (every route checks the role).
 *
 * `at` (ms since the epoch) makes the id of a row created at another time (the seeder's past orders).
 */
export function newId(at: number = Date.now()): string {
  // The time given, so `uuid` takes its random bits from here: its own way asks the operating system for
  // 16 bytes per id (~4 µs each in this VM, more than the rest of the id), this pool once per 256 ids.
  // Ids made in one millisecond sort in no particular order among themselves.
  return v7({ msecs: Math.floor(at), random: randomBytes16() });
}

const pool = new Uint8Array(16 * 256);
let used = pool.length;

function randomBytes16(): Uint8Array {
  if (used === pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  used += 16;
  return pool.subarray(used - 16, used);
}
