import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { openDatabase } from '../src/db/open.ts';
import { createLogger } from '../src/logger.ts';
import { createUser, findUserByEmail, IdentityError, issueToken } from '../src/runtime/identity.ts';
import { generatePassword } from '../src/runtime/passwords.ts';

const USAGE = `Usage:
  npm run user -- create <email> --role operator|analyst|admin [--name "Full Name"] [--password <pw>]
  npm run user -- token <email> [--name <label>]
Creates a user (a password is generated and printed when none is given), or issues an API token for
an existing user (printed once; only its hash is stored).`;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { role: { type: 'string' }, name: { type: 'string' }, password: { type: 'string' } },
});
const [command, email] = positionals;
if (!command || !email || !['create', 'token'].includes(command)) {
  console.error(USAGE);
  process.exit(2);
}

const config = loadConfig();
const logger = createLogger({ level: 'warn', name: 'ordo-user' });
const database = await openDatabase(config, logger, { poolSize: 2 });
let code = 0;
try {
  await migrateToLatest(database.db);
  if (command === 'create') {
    const password = values.password ?? generatePassword();
    const user = await createUser(database.db, { email, name: values.name, password, role: values.role ?? '' });
    console.log(`Created ${user.role} ${user.email}` + (values.password ? '' : `\nPassword: ${password}`));
  } else {
    const user = await findUserByEmail(database.db, email);
    if (!user) throw new IdentityError('USER_NOT_FOUND', `No user with the e-mail ${email}.`);
    const { token } = await issueToken(database.db, user.id, values.name ?? 'cli');
    console.log(`API token for ${user.email} (${user.role}); shown once:\n${token}`);
  }
} catch (err) {
  console.error(err instanceof IdentityError ? err.message : `Failed: ${(err as Error).message}`);
  code = 1;
} finally {
  await database.shutdown();
}
process.exit(code);
