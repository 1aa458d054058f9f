import { loadConfig } from '../src/config.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { openDatabase } from '../src/db/open.ts';
import { createLogger } from '../src/logger.ts';
import { createUser, findUserByEmail, IdentityError, issueToken } from '../src/runtime/identity.ts';
import { generatePassword } from '../src/runtime/passwords.ts';
import { commandLine, helpText } from './cli.ts';

const SPEC = {
  name: 'user',
  usage: `npm run user -- create <email> --role operator|analyst|admin [--name "Full Name"] [--password <password>]
       npm run user -- token <email> [--name <label>]`,
  about: `Creates a user (a password is generated and printed when none is given), or issues an API token for
an existing user (printed once; only its hash is stored).`,
  options: {
    role: { type: 'string', value: 'role', description: 'create: operator, analyst or admin' },
    name: { type: 'string', value: 'name', description: "create: the user's full name; token: the token's label (default cli)" },
    password: { type: 'string', value: 'password', description: 'create: the password (default: one is generated and printed)' },
  },
  positionals: ['command', 'email'],
} as const;
const cli = commandLine(SPEC);
const { values } = cli;
// Without a command, what the commands are; a wrong one is refused in one line, as a wrong option is.
if (cli.positionals.length === 0) {
  process.stderr.write(helpText(SPEC));
  process.exit(2);
}
const [command = '', email = ''] = cli.positionals;
if (command !== 'create' && command !== 'token') cli.fail(`unknown command "${command}": create or token (see --help)`);
if (!email) cli.fail(`${command} needs the user's e-mail address (see --help)`);

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
