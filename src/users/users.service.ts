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

  /**
   * The user when the password matches and the account is enabled; undefined otherwise, in the
   * same time either way (a disabled account gets the answer of a wrong password).
   */
  async verify(email: string, password: string): Promise<User | undefined> {
    const user = await this.findByEmail(email);
    if (!user) {
      this.dummyHash ??= argon2.hash('no user has this password', { type: argon2.argon2id });
      await argon2.verify(await this.dummyHash, password);
      return undefined;
    }
    const matches = await argon2.verify(user.password_hash, password);
    return matches && !user.disabled_at ? user : undefined;
  }

  /** What a session is checked against on each request: one primary-key read. */
  sessionState(id: number): Promise<UserSessionState | undefined> {
    return this.db
      .selectFrom('users')
      .select(['id', 'email', 'role', 'disabled_at', 'session_generation'])
      .where('id', '=', id)
      .executeTakeFirst();
  }

  list(): Promise<UserSummary[]> {
    return this.db
      .selectFrom('users')
      .select(['id', 'email', 'role', 'disabled_at', 'created_at'])
      .orderBy('id')
      .execute()
      .then((rows) => rows.map(toSummary));
  }

  /**
   * Ends every session of the user, on every instance: sessions opened under an older
   * generation are refused from their next request. Undefined when there is no such user.
   */
  async endSessions(id: number): Promise<{ sessionGeneration: number } | undefined> {
    const row = await this.db
      .updateTable('users')
      .set({ session_generation: sql`session_generation + 1`, updated_at: sql`now()` })
      .where('id', '=', id)
      .returning('session_generation')
      .executeTakeFirst();
    return row && { sessionGeneration: row.session_generation };
  }

  /**
   * Changes the role and/or the disabled state. Takes effect on the user's next request (the
   * session layer reads both each time); disabling also ends the sessions, so enabling again
   * does not revive them.
   */
  async update(
    id: number,
    change: { role?: UserRole; disabled?: boolean },
  ): Promise<UserSummary | undefined> {
    const row = await this.db
      .updateTable('users')
      .set({
        updated_at: sql`now()`,
        ...(change.role !== undefined && { role: change.role }),
        ...(change.disabled === true && {
          disabled_at: sql`coalesce(disabled_at, now())`,
          session_generation: sql`session_generation + 1`,
        }),
        ...(change.disabled === false && { disabled_at: null }),
      })
      .where('id', '=', id)
      .returning(['id', 'email', 'role', 'disabled_at', 'created_at'])
      .executeTakeFirst();
    return row && toSummary(row);
  }
}

export type UserSessionState = Pick<
  User,
  'id' | 'email' | 'role' | 'disabled_at' | 'session_generation'
>;

/** A user as the management API shows it (never the password hash). */
export interface UserSummary {
  id: number;
  email: string;
  role: UserRole;
  disabled: boolean;
  createdAt: Date;
}

function toSummary(row: Pick<User, 'id' | 'email' | 'role' | 'disabled_at' | 'created_at'>) {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    disabled: row.disabled_at !== null,
    createdAt: row.created_at,
  };
}
