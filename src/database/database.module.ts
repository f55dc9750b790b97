import {
  Global,
  Inject,
  Logger,
  Module,
  OnApplicationShutdown,
  OnModuleInit,
} from '@nestjs/common';
import { AppConfig } from '../config';
import { createDatabase, Database } from './database';
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
    const { results = [] } = await migrateToLatest(this.db, this.config.database.url);
    const applied = results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
    if (applied.length > 0) this.logger.log(`Applied migrations: ${applied.join(', ')}`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.db.destroy();
  }
}
