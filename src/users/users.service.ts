import { ConflictException, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import * as argon2 from 'argon2';
import { sql } from 'kysely';
import { AppConfig } from '../config';
import { Database, User, UserRole } from '../database';

export const USER_ROLES: readonly UserRole[] = ['admin', 'operator', 'viewer'];

/** Users live in PostgreSQL; passwords are argon2id hashes. */
@Injectable()
export class UsersService implements OnApplicationBootstrap {
  private readonly logger = new Logger(UsersService.name);
  /** Verified against when the email is unknown, so both failures take the same time. */
  private dummyHash?: Promise<string>;

  constructor(
    private readonly db: Database,
    private readonly config: AppConfig,
  ) {}

  /** Creates the BOOTSTRAP_ADMIN_* user at start when no user has that email yet. */
  async onApplicationBootstrap(): Promise<void> {
    const admin = this.config.session.bootstrapAdmin;
    if (!admin) return;
    const created = await this.create(admin.email, admin.password, 'admin', { ifAbsent: true });
    if (created) this.logger.log(`Created the bootstrap admin ${admin.email}`);
  }

  /** Returns the new user, or undefined with ifAbsent when the email is taken. */
  async create(
    email: string,
    password: string,
    role: UserRole,
    { ifAbsent = false } = {},
  ): Promise<User | undefined> {
    const passwordHash = await argon2.hash(password, { type: argon2.argon2id });
    const inserted = await this.db
      .insertInto('users')
      .values({ email: email.trim(), password_hash: passwordHash, role })
      // Concurrent instances bootstrapping the same admin: one wins, the others do nothing.
      .onConflict((oc) => oc.expression(sql`lower(email)`).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!inserted && !ifAbsent)
      throw new ConflictException(`A user with email ${email} already exists`);
    return inserted;
  }

  findByEmail(email: string): Promise<User | undefined> {
    return this.db
      .selectFrom('users')
      .selectAll()
      .where((eb) => eb(eb.fn('lower', [eb.ref('email')]), '=', email.trim().toLowerCase()))
      .executeTakeFirst();
  }

  /** The user when the password matches; undefined otherwise, in the same time either way. */
  async verify(email: string, password: string): Promise<User | undefined> {
    const user = await this.findByEmail(email);
    if (!user) {
      this.dummyHash ??= argon2.hash('no user has this password', { type: argon2.argon2id });
      await argon2.verify(await this.dummyHash, password);
      return undefined;
    }
    return (await argon2.verify(user.password_hash, password)) ? user : undefined;
  }
}
