import { IsIn, IsOptional, IsString, Matches } from 'class-validator';
import { EnvDuration, EnvInt } from './decorators';

export const NODE_ENVS = ['development', 'production', 'test'] as const;
export type NodeEnv = (typeof NODE_ENVS)[number];

export const APP_ROLES = ['all', 'api', 'worker'] as const;
export type AppRole = (typeof APP_ROLES)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Process-wide settings. */
export class AppEnv {
  /** `production` turns on JSON logs, secure cookies and the strict secret checks. */
  @IsIn(NODE_ENVS, { message: `must be one of ${NODE_ENVS.join(', ')}` })
  NODE_ENV: NodeEnv = 'development';

  /** HTTP port of the api/all roles (the worker role opens none). */
  @EnvInt(0, 65535)
  PORT = 3000;

  /** Address to bind HTTP to. */
  @IsString()
  HOST = '0.0.0.0';

  /** all = HTTP + processors + scheduler; api = HTTP only (produces jobs); worker = processors, no port. */
  @IsIn(APP_ROLES, { message: `must be one of ${APP_ROLES.join(', ')}` })
  APP_ROLE: AppRole = 'all';

  @IsIn(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` })
  LOG_LEVEL: LogLevel = 'info';

  /** How long SIGTERM lets active jobs and requests finish; then jobs are handed back, requests cut (exit 75). */
  @EnvDuration(0)
  SHUTDOWN_TIMEOUT = 30_000;

  /** Express `trust proxy`: `false`, `true`, a hop count or a list of subnets (needed behind a TLS proxy). */
  @IsOptional()
  @Matches(/^(true|false|\d+|[\w.:/,\s-]+)$/, {
    message: 'must be true, false, a hop count or subnets',
  })
  TRUST_PROXY = 'false';

  /** Bearer token required by GET /metrics when set. */
  @IsOptional()
  @IsString()
  METRICS_TOKEN?: string;
}
