/**
 * Thrown by a handler when retrying cannot help (bad data, a refused payment): the job fails
 * now, with this reason, instead of using its remaining attempts.
 */
export class PermanentJobError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentJobError';
  }
}
