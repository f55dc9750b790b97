import {
  Global,
  Inject,
  Logger,
  Module,
  OnApplicationShutdown,
  OnModuleInit,
} from '@nestjs/common';
import { MigrationResultSet } from 'kysely';
import { AppConfig } from '../config';
import { closeDatabase, createDatabase, Database } from './database';
import { migrateToLatest } from './migrator';

@Global()
@Module({
  providers: [
    {
      provide: Database,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => {
        const logger = new Logger('Database');
        return createDatabase({
          url: config.database.url,
          poolSize: config.database.poolSize,
          onPoolError: (error) => logger.warn(`PostgreSQL connection lost: ${error.message}`),
        });
      },
    },
  ],
  exports: [Database],
})
export class DatabaseModule implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(DatabaseModule.name);

  constructor(
    @Inject(Database) private readonly db: Database,
    private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!this.config.database.migrateOnStart) return;
    const { results = [] } = await this.migrate();
    const applied = results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
    if (applied.length > 0) this.logger.log(`Applied migrations: ${applied.join(', ')}`);
  }

  /**
   * Through the direct URL when one is given: the migrator's session-level advisory lock must
   * stay on one server connection, which a transaction-mode pooler does not promise.
   */
  private async migrate(): Promise<MigrationResultSet> {
    const { url, migrationUrl } = this.config.database;
    if (migrationUrl === url) return migrateToLatest(this.db, url);
    const direct = createDatabase({ url: migrationUrl, poolSize: 1 });
    try {
      return await migrateToLatest(direct, migrationUrl);
    } finally {
      await direct.destroy();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await closeDatabase(this.db);
  }
}
