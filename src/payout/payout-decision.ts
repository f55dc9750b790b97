import { LookupResult } from './provider/payment-provider';

/** What one provider call told us. */
export type CallOutcome =
  | { kind: 'paid'; reference: string }
  /** A refusal for good (PermanentProviderError): this call moved nothing. */
  | { kind: 'declined'; reason: string }
  /** A known transient error (429, 503 before anything was done): this call moved nothing. */
  | { kind: 'transient'; reason: string; rateLimited?: boolean }
  /** Timeout, lost response, 5xx, a bug: the money may have moved. */
  | { kind: 'unknown'; reason: string };

export interface AttemptState {
  /** Sticky: an earlier call's outcome was unknown, or the payout was taken over. */
  moneyMayHaveMoved: boolean;
  lastAttempt: boolean;
}

export type Decision =
  | { action: 'pay'; reference: string }
  /** Fail the payout and give the amount back: only when the money certainly did not move. */
  | { action: 'fail'; reason: string }
  /** End the lease and let Bull retry the job (same idempotency key). */
  | { action: 'retry'; reason: string }
  /** End the lease and leave the payout processing for the reconciler. */
  | { action: 'leave'; reason: string }
  /** Ask the provider what it knows of this key before deciding. */
  | { action: 'lookup'; reason: string };

/**
 * After a transfer call. The rule that keeps a payee from being paid and refunded: once the money
 * may have moved, no single error fails the payout; only the provider's own record may (lookup).
 */
export function decideAfterCall(call: CallOutcome, state: AttemptState): Decision {
  switch (call.kind) {
    case 'paid':
      return { action: 'pay', reference: call.reference };
    case 'unknown':
      // Right after an unknown outcome the request may still be landing: never look up yet.
      return state.lastAttempt
        ? { action: 'leave', reason: call.reason }
        : { action: 'retry', reason: call.reason };
    case 'declined':
      return state.moneyMayHaveMoved
        ? { action: 'lookup', reason: call.reason }
        : { action: 'fail', reason: call.reason };
    case 'transient':
      if (!state.lastAttempt) return { action: 'retry', reason: call.reason };
      return state.moneyMayHaveMoved
        ? { action: 'lookup', reason: call.reason }
        : { action: 'fail', reason: call.reason };
  }
}

/**
 * After asking the provider (an attempt that could not decide, or the reconciler). "Not found"
 * proves nothing while an earlier call may still reach the provider: it counts only once the
 * money has been "may have moved" for longer than a lease, when every call made under an earlier
 * lease has passed its deadline (docs/payouts.md says what remains: a host frozen before it sent).
 */
export function decideAfterLookup(
  lookup: LookupResult,
  context: { unknownForMs: number; leaseMs: number; reason: string },
): Decision {
  switch (lookup.status) {
    case 'paid':
      return { action: 'pay', reference: lookup.reference };
    case 'declined':
      return { action: 'fail', reason: lookup.reason };
    case 'not_found':
      return context.unknownForMs >= context.leaseMs
        ? {
            action: 'fail',
            reason: `${context.reason} (the provider has no transfer under its key)`,
          }
        : {
            action: 'leave',
            reason: `${context.reason} (no transfer found yet; asked again later)`,
          };
    case 'unknown':
      return { action: 'leave', reason: `${context.reason} (lookup failed: ${lookup.reason})` };
  }
}
