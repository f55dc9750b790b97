import { QueueName } from '../queue/queue-names';
import { REDACTED, redactJobData } from './job-redaction';

describe('redactJobData', () => {
  it("hides the queue's listed keys and the global ones at any depth, keeping the rest", () => {
    const data = {
      payoutId: 'p1',
      bank: { IBAN: 'DE89 3704', holder: 'Ada' },
      attempts: [{ token: 't' }],
      meta: { correlationId: 'c1' },
    };
    expect(redactJobData(QueueName.Payouts, data)).toEqual({
      payoutId: 'p1',
      bank: { IBAN: REDACTED, holder: 'Ada' },
      attempts: [{ token: REDACTED }],
      meta: { correlationId: 'c1' },
    });
    // The input is not modified.
    expect(data.bank.IBAN).toBe('DE89 3704');
  });

  it('applies per-queue lists only to their queue', () => {
    expect(redactJobData(QueueName.Notifications, { email: 'a@b.c' })).toEqual({ email: REDACTED });
    expect(redactJobData(QueueName.Analytics, { email: 'a@b.c' })).toEqual({ email: 'a@b.c' });
  });
});
