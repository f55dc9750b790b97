export { AppConfig } from './app-config';
export type { RedisSettings } from './app-config';
export { ConfigError } from './config-error';
export { ConfigModule } from './config.module';
export { loadConfig, readEnvironment } from './load-config';
export type { AppRole } from './env';
