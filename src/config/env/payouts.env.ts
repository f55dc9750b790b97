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

  /** The reconciler re-enqueues payouts still pending or processing this long after their last change. */
  @EnvDuration(1_000)
  PAYOUT_STUCK_AFTER = 600_000;

  /** Payees examined per transaction by the payout cycle (keyset pages by payee id). */
  @EnvInt(1, 10_000)
  PAYOUT_CYCLE_BATCH_SIZE = 1_000;
}
