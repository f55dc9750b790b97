/**
 * The port through which money moves. An adapter (simulated, Stripe Connect, Adyen, Wise)
 * implements it; the processor knows nothing else about the provider. What a real adapter must
 * map to each answer: docs/payment-providers.md.
 */
export interface PaymentProvider {
  /** A short name for logs, events and metrics (`simulated`, `stripe`). */
  readonly name: string;

  /**
   * Moves `amountMinor` to the payee. Calling it again with the same idempotency key must not
   * move the money again: it returns the first call's reference (or its refusal). The adapter
   * must stop waiting when `signal` aborts (the call's deadline) and throw an unknown-outcome
   * TransientProviderError then: the request may have been sent.
   *
   * @throws TransientProviderError when retrying later may succeed (rate limit, outage, timeout)
   * @throws PermanentProviderError when it never will (closed account, invalid destination)
   */
  transfer(request: TransferRequest, options: { signal: AbortSignal }): Promise<TransferResult>;

  /**
   * What the provider knows of the transfer made with this idempotency key (Stripe: list
   * transfers by `transfer_group`/metadata; Adyen: the payout's `reference`; Wise: the
   * `customerTransactionId`). Never throws: a failed look-up is `unknown`.
   */
  lookup(idempotencyKey: string): Promise<LookupResult>;
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

export type LookupResult =
  /** The money moved. */
  | { status: 'paid'; reference: string }
  /** The provider refused this key for good: the money did not move and never will under it. */
  | { status: 'declined'; reason: string }
  /** The provider has no transfer under this key: the money has not moved. */
  | { status: 'not_found' }
  /** The look-up itself failed (outage, timeout): nothing learned. */
  | { status: 'unknown'; reason: string };

/** Nest injection token of the configured PaymentProvider. */
export const PAYMENT_PROVIDER = Symbol('PaymentProvider');

/**
 * Retrying may succeed. `outcomeUnknown` says the request may have reached the provider (a
 * timeout after sending, a lost response, a 5xx): the money may have moved, so the payout is
 * marked "money may have moved" and only the provider's lookup may fail it from then on.
 * Without it (a 429, a connection refused) the provider certainly did nothing.
 */
export class TransientProviderError extends Error {
  readonly outcomeUnknown: boolean;
  /** The provider asked us to slow down (HTTP 429): refused before it looked at the request. */
  readonly rateLimited: boolean;

  constructor(
    message: string,
    options: { cause?: unknown; outcomeUnknown?: boolean; rateLimited?: boolean } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'TransientProviderError';
    this.outcomeUnknown = options.outcomeUnknown ?? false;
    this.rateLimited = options.rateLimited ?? false;
  }
}

/** The provider refused the transfer and will refuse it again: the money did not move. */
export class PermanentProviderError extends Error {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = 'PermanentProviderError';
  }
}
