import { writeSync } from 'node:fs';
import { AppConfig } from './app-config';
import { ConfigError } from './config-error';
import { loadConfig, readEnvironment } from './load-config';

/**
 * Reads and validates the environment; a bad value ends the process here, before any port opens.
 * Loads nothing but the config code, so an entry point can call it before tracing starts.
 */
export function loadConfigOrExit(overrides: Record<string, string> = {}): AppConfig {
  try {
    // The one place that reads process.env (through readEnvironment).
    return loadConfig({ ...readEnvironment(process.env), ...overrides });
  } catch (error) {
    if (error instanceof ConfigError) {
      // Synchronously: the process exits on the next line (a stream write could be lost).
      writeSync(2, `${error.message}\n`);
      process.exit(78); // EX_CONFIG (ExitCode.Config)
    }
    throw error;
  }
}
