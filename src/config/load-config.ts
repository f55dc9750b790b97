import { ClassConstructor, plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync, ValidationError } from 'class-validator';
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseDotenv } from 'dotenv';
import { AppConfig } from './app-config';
import { ConfigError, ConfigProblem } from './config-error';
import { ENV_SCHEMAS, SECRET_VARIABLES } from './env';
import { STARTED_SERVICES_FILE, withStartedServices } from './started-services';

export type RawEnv = Record<string, string | undefined>;

/**
 * Reads `.env` (when present) under the real environment, which wins, so a deploy can
 * override any file value without editing it. Redis and PostgreSQL set by neither are the ones
 * `npm start` started (see started-services.ts); with none recorded, this throws ConfigError.
 */
export function readEnvironment(
  processEnv: RawEnv,
  envFile = '.env',
  servicesFile = STARTED_SERVICES_FILE,
): RawEnv {
  const fromFile = existsSync(envFile) ? parseDotenv(readFileSync(envFile)) : {};
  const env = { ...fromFile, ...processEnv };
  // An empty value means unset here too, as in loadConfig.
  for (const key of ['REDIS_URL', 'DATABASE_URL']) if (env[key] === '') delete env[key];
  return withStartedServices(env, servicesFile);
}

/** Validates every schema, collects every problem, and builds the typed config or throws ConfigError. */
export function loadConfig(raw: RawEnv): AppConfig {
  // An empty value means "unset" (the usual meaning of `FOO=` in a .env file).
  const env = Object.fromEntries(
    Object.entries(raw).filter(([, value]) => value !== '' && value !== undefined),
  );
  const problems: ConfigProblem[] = [];
  const parsed = ENV_SCHEMAS.map((schema) =>
    validateSchema(schema as ClassConstructor<object>, env, problems),
  );
  if (problems.length > 0) throw new ConfigError(problems);
  const config = new AppConfig(Object.assign({}, ...parsed), env);
  const crossProblems = config.crossChecks();
  if (crossProblems.length > 0) throw new ConfigError(crossProblems);
  return config;
}

function validateSchema<T extends object>(
  schema: ClassConstructor<T>,
  env: RawEnv,
  problems: ConfigProblem[],
): T {
  const instance = plainToInstance(schema, env, { exposeDefaultValues: true });
  const errors = validateSync(instance, {
    skipMissingProperties: false,
    forbidUnknownValues: false,
  });
  problems.push(...errors.map((error) => toProblem(error, env)));
  return pickOwn(instance, schema);
}

/** Only the schema's own properties, not the whole environment plainToInstance copied in. */
function pickOwn<T extends object>(instance: T, schema: ClassConstructor<T>): T {
  const keys = schemaVariables(schema);
  const record = instance as Record<string, unknown>;
  return Object.fromEntries(keys.map((key) => [key, record[key]])) as T;
}

function toProblem(error: ValidationError, env: RawEnv): ConfigProblem {
  const messages = Object.values(error.constraints ?? {});
  return {
    variable: error.property,
    expected: [...new Set(messages)].join('; '),
    got: describeValue(error.property, env[error.property]),
  };
}

export function describeValue(variable: string, value: string | undefined): string {
  if (value === undefined) return 'nothing';
  if (SECRET_VARIABLES.has(variable)) return `a secret of ${value.length} characters`;
  // Never echo a password embedded in a connection URL.
  const masked = value.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
  return JSON.stringify(masked.length > 200 ? `${masked.slice(0, 200)}...` : masked);
}

/** The variable names a schema declares (every property carries at least one validator). */
export function schemaVariables(schema: ClassConstructor<object>): string[] {
  const metadata = getMetadataStorage().getTargetValidationMetadatas(schema, '', true, false);
  return [...new Set(metadata.map((entry) => entry.propertyName))];
}

export function allVariables(): string[] {
  return ENV_SCHEMAS.flatMap((schema) => schemaVariables(schema as ClassConstructor<object>));
}
