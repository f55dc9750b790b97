import { QueueName } from '../queue/queue-names';

export const REDACTED = '[redacted]';

/** Keys hidden from every queue's job data, wherever they appear (compared case-insensitively). */
const ALWAYS_REDACTED = ['password', 'secret', 'token', 'apiKey', 'authorization', 'cookie'];

/**
 * Per queue: payload keys an operator must not read in the job API (bank details in payouts,
 * addresses in notifications, signed links in exports). Extend the list when a payload grows a
 * sensitive field; the test in job-redaction.spec.ts shows the shape.
 */
export const REDACTED_KEYS: Readonly<Record<QueueName, readonly string[]>> = {
  [QueueName.Payouts]: ['iban', 'accountNumber', 'bankAccount', 'routingNumber', 'cardNumber'],
  [QueueName.Analytics]: [],
  [QueueName.Notifications]: ['email', 'to', 'phone', 'address'],
  [QueueName.Exports]: ['downloadUrl', 'signedUrl'],
};

/** A deep copy of job data with the queue's sensitive keys replaced by "[redacted]". */
export function redactJobData(queue: QueueName, data: unknown): unknown {
  const keys = new Set([...ALWAYS_REDACTED, ...REDACTED_KEYS[queue]].map((k) => k.toLowerCase()));
  const walk = (value: unknown, depth: number): unknown => {
    if (depth > 20 || value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((item) => walk(item, depth + 1));
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([key, item]) => [
        key,
        keys.has(key.toLowerCase()) ? REDACTED : walk(item, depth + 1),
      ]),
    );
  };
  return walk(data, 0);
}
