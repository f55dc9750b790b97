import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { AppConfig } from '../config';
import { CorrelationContext } from '../correlation';
import { ProviderMetrics, ProviderOutcome } from '../metrics/provider-metrics';
import { Payout, PayoutStatus } from '../database';
import { payoutNotificationRow } from '../notifications/payout-message';
import { PermanentJobError } from '../queue';
import { CallOutcome, Decision, decideAfterCall, decideAfterLookup } from './payout-decision';
import { PayoutNotifier } from './payout.notifier';
import { Claim, PayoutRepository, PayoutWithPayee } from './payout.repository';
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
  /** Another worker's lease is live: it is working on this payout now. */
  | { outcome: 'busy'; leaseOwner: string | null; leaseEndsInMs: number }
  | { outcome: 'left-processing'; reason: string }
  /** This worker's lease was taken over while it called the provider: its finish was refused. */
  | { outcome: 'stale'; reason: string };

/** The provider gave no answer we may act on now; Bull retries the job (same idempotency key). */
export class RetryPayoutError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RetryPayoutError';
  }
}

const FINISHED: readonly PayoutStatus[] = ['paid', 'failed', 'cancelled'];

/** Who this process is on a payout's lease: readable in the history, unique per process. */
const WORKER_ID = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;

/**
 * Pays one payout, exactly once however often its job runs, and holds no database connection
 * while the provider is called: claim (one statement: a lease with a fencing token), call (with
 * a deadline), finish (one statement that presents the token). See docs/payouts.md for the
 * interleavings (crash, freeze, lost answer, rate limit, take-over) and why each is safe.
 */
@Injectable()
export class PayoutProcessingService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(PayoutProcessingService.name);
  /** Payouts this process holds a lease on, while it works on them. */
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly payouts: PayoutRepository,
    @Inject(PAYMENT_PROVIDER) private readonly provider: PaymentProvider,
    private readonly notifier: PayoutNotifier,
    private readonly correlation: CorrelationContext,
    private readonly config: AppConfig,
    private readonly metrics: ProviderMetrics,
  ) {}

  async process(payoutId: string, attempt: AttemptInfo): Promise<ProcessingOutcome> {
    const claim = await this.payouts.claim(payoutId, {
      owner: WORKER_ID,
      durationMs: this.config.payouts.leaseMs,
      detail: `attempt ${attempt.attempt} of ${attempt.maxAttempts}`,
      correlationId: this.correlationId,
    });
    if (!claim) return this.notClaimed(payoutId);
    this.inFlight.add(payoutId);
    try {
      return await this.attempt(claim, attempt);
    } finally {
      this.inFlight.delete(payoutId);
    }
  }

  /**
   * At shutdown, a payout still in flight belongs to a job given up at the deadline and handed
   * back: end its lease now, so the next worker takes it over at once (as "money may have
   * moved") instead of waiting up to PAYOUT_LEASE. Our late finish is then refused by the token.
   */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.inFlight.size === 0) return;
    const ended = await this.payouts.endLeases([...this.inFlight], WORKER_ID);
    this.logger.warn(`Shutdown: ended the lease of ${ended} payout(s) still in flight`);
  }

  private async attempt(claim: Claim, attempt: AttemptInfo): Promise<ProcessingOutcome> {
    const call = await this.transfer(claim.payout);
    const lastAttempt = attempt.attempt >= attempt.maxAttempts;
    let decision = decideAfterCall(call, {
      moneyMayHaveMoved: claim.payout.outcome_unknown_at !== null,
      lastAttempt,
    });
    if (decision.action === 'lookup') {
      decision = decideAfterLookup(await this.provider.lookup(claim.payout.id), {
        unknownForMs: unknownFor(claim.payout),
        leaseMs: this.config.payouts.leaseMs,
        reason: decision.reason,
      });
    }
    if (decision.action === 'fail' && call.kind === 'transient') {
      decision = {
        ...decision,
        reason: `gave up after ${attempt.attempt} attempts: ${decision.reason}`,
      };
    }
    const marksUnknown = call.kind === 'unknown';
    return this.apply(claim, decision, { marksUnknown, attempt });
  }

  /**
   * The reconciler's way in for a payout whose money may have moved and that nobody works on:
   * ask the provider first. Paid or declined settles it; otherwise it is left for a new job
   * (`retry`: nothing moved yet, so the transfer may simply be tried again with its key).
   */
  async resolveByLookup(payoutId: string): Promise<ProcessingOutcome | { outcome: 'retry' }> {
    const claim = await this.payouts.claim(payoutId, {
      owner: WORKER_ID,
      durationMs: this.config.payouts.leaseMs,
      detail: 'reconciler: asking the provider what it knows of this payout',
      correlationId: this.correlationId,
    });
    if (!claim) return this.notClaimed(payoutId);
    const lookup = await this.provider.lookup(payoutId);
    const decision: Decision =
      lookup.status === 'paid'
        ? { action: 'pay', reference: lookup.reference }
        : lookup.status === 'declined'
          ? { action: 'fail', reason: lookup.reason }
          : {
              action: 'leave',
              reason:
                lookup.status === 'not_found'
                  ? 'reconciler: the provider has no transfer under its key; trying again'
                  : `reconciler: lookup failed: ${lookup.reason}`,
            };
    const outcome = await this.apply(claim, decision, { marksUnknown: false });
    return lookup.status === 'not_found' && outcome.outcome === 'left-processing'
      ? { outcome: 'retry' }
      : outcome;
  }

  private async notClaimed(payoutId: string): Promise<ProcessingOutcome> {
    const payout = await this.payouts.findById(payoutId);
    if (!payout) throw new PermanentJobError(`Payout ${payoutId} does not exist`);
    if (FINISHED.includes(payout.status)) {
      // Its notification may have been lost with a crash right after the status change.
      if (payout.status === 'paid' || payout.status === 'failed') {
        await this.notifier.payoutFinished(payoutId, payout.status);
      }
      return { outcome: 'skipped', status: payout.status };
    }
    const leaseEnd = payout.lease_expires_at ? new Date(payout.lease_expires_at).getTime() : 0;
    return {
      outcome: 'busy',
      leaseOwner: payout.lease_owner,
      leaseEndsInMs: Math.max(0, leaseEnd - Date.now()),
    };
  }

  /** The call, counted in `payouts_provider_calls_total` and timed. */
  private async transfer(payout: PayoutWithPayee): Promise<CallOutcome> {
    const started = performance.now();
    const call = await this.callProvider(payout);
    this.metrics.record(
      this.provider.name,
      metricOutcome(call),
      (performance.now() - started) / 1000,
    );
    return call;
  }

  /** The call with its deadline; every way it can end becomes a CallOutcome, never a throw. */
  private async callProvider(payout: PayoutWithPayee): Promise<CallOutcome> {
    const signal = AbortSignal.timeout(this.config.payouts.providerTimeoutMs);
    try {
      const { reference } = await untilAborted(
        this.provider.transfer(
          {
            idempotencyKey: payout.id,
            amountMinor: Number(payout.amount_minor),
            currency: payout.currency,
            payee: {
              id: Number(payout.payee_id),
              name: payout.payee_name,
              email: payout.payee_email,
            },
          },
          { signal },
        ),
        signal,
      );
      return { kind: 'paid', reference };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof PermanentProviderError) {
        return { kind: 'declined', reason: `refused by ${this.provider.name}: ${message}` };
      }
      if (error instanceof TransientProviderError && !error.outcomeUnknown && !signal.aborted) {
        return { kind: 'transient', reason: message, rateLimited: error.rateLimited };
      }
      // A deadline, a lost answer, a 5xx or an error of ours: the money may have moved.
      return {
        kind: 'unknown',
        reason: signal.aborted ? `no answer within the deadline: ${message}` : message,
      };
    }
  }

  private async apply(
    claim: Claim,
    decision: Decision,
    options: { marksUnknown: boolean; attempt?: AttemptInfo },
  ): Promise<ProcessingOutcome> {
    const { payout, token } = claim;
    const common = { leaseToken: token, correlationId: this.correlationId };
    switch (decision.action) {
      case 'pay': {
        const paid = await this.payouts.transition(payout.id, {
          ...common,
          from: ['processing'],
          to: 'paid',
          providerReference: decision.reference,
          finish: true,
          lastError: null,
          detail: `paid through ${this.provider.name}, reference ${decision.reference}`,
          notification: notificationOf(payout, 'paid', decision.reference, null),
        });
        if (!paid.changed)
          return this.staleFinish(payout.id, `paid (${decision.reference})`, paid.current);
        await this.notifier.payoutFinished(payout.id, 'paid');
        return { outcome: 'paid', reference: decision.reference };
      }
      case 'fail': {
        const failed = await this.payouts.transition(payout.id, {
          ...common,
          from: ['processing'],
          to: 'failed',
          lastError: decision.reason,
          finish: true,
          reverseDebit: true,
          detail: decision.reason,
          notification: notificationOf(
            payout,
            'failed',
            payout.provider_reference,
            decision.reason,
          ),
        });
        if (!failed.changed)
          return this.staleFinish(payout.id, `failed (${decision.reason})`, failed.current);
        this.logger.warn(`Payout ${payout.id} failed: ${decision.reason}`);
        await this.notifier.payoutFinished(payout.id, 'failed');
        return { outcome: 'failed', reason: decision.reason };
      }
      case 'retry':
      case 'leave':
      case 'lookup': {
        const attempt = options.attempt ? `attempt ${options.attempt.attempt} ` : '';
        const released = await this.payouts.transition(payout.id, {
          ...common,
          from: ['processing'],
          to: 'processing',
          releaseLease: true,
          markOutcomeUnknown: options.marksUnknown,
          lastError: decision.reason,
          detail:
            `${attempt}failed: ${decision.reason}` +
            (options.marksUnknown
              ? ' (money may have moved: only the provider may fail it now)'
              : ''),
        });
        if (!released.changed) {
          return this.staleFinish(payout.id, `unfinished (${decision.reason})`, released.current);
        }
        if (decision.action === 'retry') throw new RetryPayoutError(decision.reason);
        this.logger.warn(
          `Payout ${payout.id} left processing for the reconciler: ${decision.reason}`,
        );
        return { outcome: 'left-processing', reason: decision.reason };
      }
    }
  }

  /** Our lease was taken over (we froze or were cut off): the new holder decides. Record it. */
  private async staleFinish(
    payoutId: string,
    what: string,
    current: Payout | undefined,
  ): Promise<ProcessingOutcome> {
    const reason = `its lease was taken over while the provider was called: this worker's finish (${what}) was refused`;
    this.logger.warn(`Payout ${payoutId}: ${reason}`);
    const status = current?.status ?? 'processing';
    await this.payouts.note(payoutId, status, `${WORKER_ID}: ${reason}`, this.correlationId);
    return { outcome: 'stale', reason };
  }

  private get correlationId(): string | null {
    return this.correlation.id ?? null;
  }
}

/**
 * The payee's email of this outcome, written by the finishing statement itself: the payout's
 * row as the finish leaves it (the claim's row, plus the reference or the reason).
 */
function notificationOf(
  payout: PayoutWithPayee,
  outcome: 'paid' | 'failed',
  providerReference: string | null,
  lastError: string | null,
) {
  return payoutNotificationRow(payout.id, payout.payee_email, {
    outcome,
    payeeName: payout.payee_name,
    amountMinor: Number(payout.amount_minor),
    currency: payout.currency,
    providerReference,
    lastError,
  });
}

function metricOutcome(call: CallOutcome): ProviderOutcome {
  if (call.kind === 'transient') return call.rateLimited ? 'rate_limited' : 'transient';
  return call.kind;
}

/** How long the payout has been marked "money may have moved" (0 when it is not). */
function unknownFor(payout: Payout): number {
  return payout.outcome_unknown_at ? Date.now() - new Date(payout.outcome_unknown_at).getTime() : 0;
}

/** Settles with the call, or rejects when the deadline passes even if the adapter ignores it. */
function untilAborted<T>(call: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason ?? new Error('aborted'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    call.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
