export { Database, closeDatabase, createDatabase, poolOf } from './database';
export { DatabaseModule } from './database.module';
export { migrateToLatest } from './migrator';
export * from './database.schema';
