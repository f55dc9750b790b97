/**
 * The port through which money moves. An adapter (simulated, Stripe Connect, PayPal Payouts)
 * implements it; the processor knows nothing else about the provider. See docs/payment-providers.md.
 */
export interface PaymentProvider {
  /** A short name for logs and events (`simulated`, `stripe`). */
  readonly name: string;

  /**
   * Moves `amountMinor` to the payee. Calling it again with the same idempotency key must not
   * move the money again: it returns the first call's reference (or its refusal).
   *
   * @throws TransientProviderError when retrying later may succeed (rate limit, outage, timeout)
   * @throws PermanentProviderError when it never will (closed account, invalid destination)
   */
  transfer(request: TransferRequest): Promise<TransferResult>;
}

export interface TransferRequest {
  /** The payout ID: the provider deduplicates on it, so a retried job pays once. */
  idempotencyKey: string;
  amountMinor: number;
  /** ISO 4217, upper case. */
  currency: string;
  payee: { id: number; name: string; email: string };
}

export interface TransferResult {
  /** The provider's ID of the transfer (Stripe `tr_...`), stored on the payout. */
  reference: string;
}

/** Nest injection token of the configured PaymentProvider. */
export const PAYMENT_PROVIDER = Symbol('PaymentProvider');

/**
 * Retrying may succeed. `outcomeUnknown` says the request may have reached the provider (a
 * timeout after sending): the money may have moved, so such a payout is never failed and given
 * back on its last attempt; it stays `processing` for the reconciler, whose retry with the same
 * idempotency key learns the real outcome.
 */
export class TransientProviderError extends Error {
  readonly outcomeUnknown: boolean;

  constructor(message: string, options: { cause?: unknown; outcomeUnknown?: boolean } = {}) {
    super(message, { cause: options.cause });
    this.name = 'TransientProviderError';
    this.outcomeUnknown = options.outcomeUnknown ?? false;
  }
}

/** The provider refused the transfer and will refuse it again: the money did not move. */
export class PermanentProviderError extends Error {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = 'PermanentProviderError';
  }
}
