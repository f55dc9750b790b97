export interface ConfigProblem {
  variable: string;
  expected: string;
  got: string;
}

/** Raised before anything starts: one message listing every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(
      [
        `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}). ` +
          'Fix these environment variables (or .env) and start again:',
        ...problems.map((p) => `  - ${p.variable}: ${p.expected} (got ${p.got})`),
      ].join('\n'),
    );
    this.name = 'ConfigError';
  }
}
