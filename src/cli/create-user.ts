import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '../bootstrap';
import { createDatabase, migrateToLatest, UserRole } from '../database';
import { USER_ROLES, UsersService } from '../users/users.service';

const USAGE =
  'usage: npm run user:create -- --email someone@example.com --role admin|operator|viewer [--password ...]\n' +
  '(without --password, the password is read from the USER_PASSWORD environment variable or standard input)';

async function readPassword(given?: string): Promise<string> {
  // eslint-disable-next-line no-restricted-syntax
  const fromEnv = process.env.USER_PASSWORD;
  if (given ?? fromEnv) return (given ?? fromEnv) as string;
  process.stderr.write('Password: ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').split('\n')[0];
}

/** `npm run user:create`: adds a user who can log in to the API. */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { email: { type: 'string' }, role: { type: 'string' }, password: { type: 'string' } },
  });
  const role = values.role as UserRole;
  if (!values.email || !USER_ROLES.includes(role)) throw new Error(USAGE);
  const password = await readPassword(values.password);
  if (password.length < 12) throw new Error('The password must have at least 12 characters');
  const config = loadConfigOrExit();
  const db = createDatabase({ url: config.database.url, poolSize: 1 });
  try {
    await migrateToLatest(db, config.database.url);
    const user = await new UsersService(db, config).create(values.email, password, role);
    process.stdout.write(`Created ${user?.role} ${user?.email} (id ${user?.id})\n`);
  } finally {
    await db.destroy();
  }
}

main().catch((error: Error) => {
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
});
