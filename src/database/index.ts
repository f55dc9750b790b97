export { Database, closeDatabase, createDatabase } from './database';
export { DatabaseModule } from './database.module';
export { migrateToLatest } from './migrator';
export * from './database.schema';
