import { Inject, Injectable, Logger } from '@nestjs/common';
import { sql } from 'kysely';
import { CorrelationContext } from '../correlation';
import { Payout, PayoutStatus } from '../database';
import { PermanentJobError } from '../queue';
import { PayoutNotifier } from './payout.notifier';
import { PayoutRepository, PayoutWithPayee } from './payout.repository';
import {
  PAYMENT_PROVIDER,
  PaymentProvider,
  PermanentProviderError,
  TransientProviderError,
} from './provider/payment-provider';

export interface AttemptInfo {
  /** 1 for the first run of the job. */
  attempt: number;
  maxAttempts: number;
}

export type ProcessingOutcome =
  | { outcome: 'paid'; reference: string }
  | { outcome: 'failed'; reason: string }
  | { outcome: 'skipped'; status: PayoutStatus | 'missing' }
  | { outcome: 'busy' }
  | { outcome: 'left-processing'; reason: string };

const FINISHED: readonly PayoutStatus[] = ['paid', 'failed', 'cancelled'];

/**
 * Pays one payout, exactly once however often its job runs:
 *   - a finished payout (paid, failed, cancelled) is skipped;
 *   - one worker at a time works on a payout (advisory lock, released if the worker dies);
 *   - pending -> processing is a conditional update; a payout left `processing` by a dead
 *     worker is taken over, which is safe because the provider gets the payout ID as its
 *     idempotency key and answers a repeated transfer with the first one's reference;
 *   - a permanent refusal, or a transient one on the last attempt, fails the payout and gives
 *     the balance back (reversal, at most once per payout); other transient errors are thrown,
 *     so Bull retries with backoff.
 */
@Injectable()
export class PayoutProcessingService {
  private readonly logger = new Logger(PayoutProcessingService.name);

  constructor(
    private readonly payouts: PayoutRepository,
    @Inject(PAYMENT_PROVIDER) private readonly provider: PaymentProvider,
    private readonly notifier: PayoutNotifier,
    private readonly correlation: CorrelationContext,
  ) {}

  async process(payoutId: string, attempt: AttemptInfo): Promise<ProcessingOutcome> {
    const result = await this.payouts.withProcessingLock(payoutId, (locked) =>
      this.processLocked(locked, payoutId, attempt),
    );
    if (result.acquired) return result.value;
    // The holder is alive (a dead one's lock is already gone) and will finish it, or fail and
    // be retried by its own job; this duplicate has nothing to do.
    this.logger.log(`Payout ${payoutId} is being processed by another worker: skipped`);
    return { outcome: 'busy' };
  }

  private async processLocked(
    payouts: PayoutRepository,
    payoutId: string,
    attempt: AttemptInfo,
  ): Promise<ProcessingOutcome> {
    const payout = await payouts.findWithPayee(payoutId);
    if (!payout) throw new PermanentJobError(`Payout ${payoutId} does not exist`);
    if (FINISHED.includes(payout.status)) {
      // Its notification may have been lost with a crash right after the status change.
      if (payout.status === 'paid' || payout.status === 'failed') {
        await this.notifier.payoutFinished(payoutId, payout.status);
      }
      return { outcome: 'skipped', status: payout.status };
    }
    const claim = await payouts.transition(payoutId, {
      from: ['pending', 'processing'],
      to: 'processing',
      set: {
        attempts: sql<number>`attempts + 1`,
        processing_started_at: sql<Date>`coalesce(processing_started_at, now())`,
      },
      detail:
        `attempt ${attempt.attempt} of ${attempt.maxAttempts}` +
        (payout.status === 'processing' ? ' (it was already processing: retry or take-over)' : ''),
      correlationId: this.correlationId,
    });
    if (!claim.changed) return { outcome: 'skipped', status: claim.current?.status ?? 'missing' };

    let reference: string;
    try {
      ({ reference } = await this.provider.transfer({
        idempotencyKey: payout.id,
        amountMinor: Number(payout.amount_minor),
        currency: payout.currency,
        payee: { id: Number(payout.payee_id), name: payout.payee_name, email: payout.payee_email },
      }));
    } catch (error) {
      return this.onProviderError(payouts, payout, error, attempt);
    }

    const paid = await payouts.transition(payoutId, {
      from: ['processing'],
      to: 'paid',
      set: { provider_reference: reference, finished_at: sql<Date>`now()`, last_error: null },
      detail: `paid through ${this.provider.name}, reference ${reference}`,
      correlationId: this.correlationId,
    });
    if (!paid.changed) {
      // Cannot happen while we hold the lock (cancel only takes pending payouts): say so loudly.
      this.logger.error(
        `Payout ${payoutId} was paid (${reference}) but is now ${paid.current?.status}: check it`,
      );
      return { outcome: 'skipped', status: paid.current?.status ?? 'missing' };
    }
    await this.notifier.payoutFinished(payoutId, 'paid');
    return { outcome: 'paid', reference };
  }

  private async onProviderError(
    payouts: PayoutRepository,
    payout: PayoutWithPayee,
    error: unknown,
    attempt: AttemptInfo,
  ): Promise<ProcessingOutcome> {
    const message = error instanceof Error ? error.message : String(error);
    const lastAttempt = attempt.attempt >= attempt.maxAttempts;
    const refused = error instanceof PermanentProviderError;
    const gaveUp = lastAttempt && error instanceof TransientProviderError && !error.outcomeUnknown;
    if (refused || gaveUp) {
      const reason = refused
        ? `refused by ${this.provider.name}: ${message}`
        : `gave up after ${attempt.attempt} attempts: ${message}`;
      return this.fail(payouts, payout, reason);
    }
    await payouts.note(
      payout.id,
      'processing',
      `attempt ${attempt.attempt} failed: ${message}`,
      this.correlationId,
      message,
    );
    if (lastAttempt) {
      // The money may have moved (unknown outcome) or the error is not the provider's: never
      // give the balance back on a guess. The reconciler retries later with the same key.
      this.logger.warn(`Payout ${payout.id} left processing after its last attempt: ${message}`);
      return { outcome: 'left-processing', reason: message };
    }
    throw error;
  }

  private async fail(
    payouts: PayoutRepository,
    payout: Payout,
    reason: string,
  ): Promise<ProcessingOutcome> {
    const failed = await payouts.transition(payout.id, {
      from: ['processing'],
      to: 'failed',
      set: { last_error: reason, finished_at: sql<Date>`now()` },
      reverseDebit: true,
      detail: reason,
      correlationId: this.correlationId,
    });
    if (!failed.changed) return { outcome: 'skipped', status: failed.current?.status ?? 'missing' };
    this.logger.warn(`Payout ${payout.id} failed: ${reason}`);
    await this.notifier.payoutFinished(payout.id, 'failed');
    return { outcome: 'failed', reason };
  }

  private get correlationId(): string | null {
    return this.correlation.id ?? null;
  }
}
