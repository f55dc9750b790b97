import { IsIn } from 'class-validator';
import { EnvDuration, EnvInt, EnvNumber } from './decorators';

export const PAYMENT_PROVIDERS = ['simulated'] as const;
export type PaymentProviderKind = (typeof PAYMENT_PROVIDERS)[number];

/** The payout cycle, the processor and the payment provider adapter. */
export class PayoutsEnv {
  /** Which adapter moves the money. `simulated` records charges in PostgreSQL (simulated_provider_charges). */
  @IsIn(PAYMENT_PROVIDERS, { message: `must be one of ${PAYMENT_PROVIDERS.join(', ')}` })
  PAYMENT_PROVIDER: PaymentProviderKind = 'simulated';

  /** Simulated provider: how long each transfer call takes to answer. */
  @EnvDuration(0)
  PROVIDER_LATENCY = 50;

  /** Simulated provider: share of calls refused with a transient error (retried), 0 to 1. */
  @EnvNumber(0, 1)
  PROVIDER_TRANSIENT_FAILURE_RATE = 0;

  /** Simulated provider: share of calls refused for good (payout failed, balance given back), 0 to 1. */
  @EnvNumber(0, 1)
  PROVIDER_PERMANENT_FAILURE_RATE = 0;

  /** Simulated provider: the first N calls for each idempotency key fail transiently (deterministic, for tests). */
  @EnvInt(0, 100)
  PROVIDER_FAIL_FIRST_ATTEMPTS = 0;

  /** Simulated provider: share of calls whose charge is made but whose answer is lost (the caller sees a network error), 0 to 1. */
  @EnvNumber(0, 1)
  PROVIDER_LOST_RESPONSE_RATE = 0;

  /** Simulated provider: share of calls answered HTTP 500 after the charge was made, 0 to 1. */
  @EnvNumber(0, 1)
  PROVIDER_ERROR_AFTER_COMMIT_RATE = 0;

  /** Simulated provider: share of calls that hang until the caller gives up (half of them after charging), 0 to 1. */
  @EnvNumber(0, 1)
  PROVIDER_HANG_RATE = 0;

  /** Simulated provider: calls per second over all workers, answered 429 past it before any idempotency check; 0 = no limit. */
  @EnvInt(0, 1_000_000)
  PROVIDER_RATE_LIMIT = 0;

  /** Deadline of one provider call: it is aborted then, and its outcome counts as unknown. */
  @EnvDuration(100)
  PROVIDER_TIMEOUT = 30_000;

  /**
   * How long a worker's claim on a payout lasts. Past it, another attempt or the reconciler takes
   * the payout over (with the same idempotency key). Must exceed PROVIDER_TIMEOUT.
   */
  @EnvDuration(1_000)
  PAYOUT_LEASE = 60_000;

  /** The reconciler re-enqueues payouts still pending or processing this long after their last change. */
  @EnvDuration(1_000)
  PAYOUT_STUCK_AFTER = 600_000;

  /** Payees examined per transaction by the payout cycle (keyset pages by payee id). */
  @EnvInt(1, 10_000)
  PAYOUT_CYCLE_BATCH_SIZE = 1_000;
}
