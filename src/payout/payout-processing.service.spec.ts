import 'reflect-metadata';
import { AppConfig } from '../config';
import { CorrelationContext } from '../correlation';
import { ProviderMetrics } from '../metrics/provider-metrics';
import { PayoutStatus } from '../database';
import { PermanentJobError } from '../queue';
import { PayoutNotifier } from './payout.notifier';
import {
  Claim,
  LeaseRequest,
  PayoutRepository,
  PayoutWithPayee,
  Transition,
  TransitionResult,
} from './payout.repository';
import {
  AttemptInfo,
  PayoutProcessingService,
  RetryPayoutError,
} from './payout-processing.service';
import {
  LookupResult,
  PaymentProvider,
  PermanentProviderError,
  TransferRequest,
  TransientProviderError,
} from './provider/payment-provider';

const LEASE_MS = 60_000;

/** The repository's contract in memory: leases with fencing tokens, transitions, reversals. */
class InMemoryPayouts {
  payout: PayoutWithPayee;
  events: Array<{ from: PayoutStatus | null; to: PayoutStatus; detail: string }> = [];
  reversals = 0;
  /** The notification rows the transitions carried (created with the status change). */
  notifications: NonNullable<Transition['notification']>[] = [];
  now = Date.now();

  constructor(status: PayoutStatus) {
    this.payout = {
      id: 'b1b1b1b1-0000-4000-8000-000000000001',
      payee_id: 7,
      amount_minor: 12_345,
      currency: 'EUR',
      status,
      idempotency_key: 'payee:7:through:99',
      provider_reference: null,
      attempts: 0,
      last_error: null,
      correlation_id: null,
      created_by_job: null,
      created_at: new Date(),
      updated_at: new Date(),
      processing_started_at: null,
      finished_at: null,
      lease_owner: null,
      lease_expires_at: null,
      lease_token: '0',
      outcome_unknown_at: null,
      payee_name: 'Ada',
      payee_email: 'ada@example.test',
    };
  }

  async claim(_id: string, lease: LeaseRequest): Promise<Claim | undefined> {
    const p = this.payout;
    if (p.status !== 'pending' && p.status !== 'processing') return undefined;
    if (p.lease_expires_at && p.lease_expires_at.getTime() > this.now) return undefined;
    const takenOverFrom = p.lease_owner;
    this.payout = {
      ...p,
      status: 'processing',
      attempts: p.attempts + 1,
      lease_owner: lease.owner,
      lease_expires_at: new Date(this.now + lease.durationMs),
      lease_token: String(Number(p.lease_token) + 1),
      outcome_unknown_at: takenOverFrom
        ? (p.outcome_unknown_at ?? new Date(this.now))
        : p.outcome_unknown_at,
    };
    this.events.push({ from: p.status, to: 'processing', detail: lease.detail });
    return { payout: { ...this.payout }, token: this.payout.lease_token, takenOverFrom };
  }

  async findById() {
    return { ...this.payout };
  }

  async transition(_id: string, change: Transition): Promise<TransitionResult> {
    const p = this.payout;
    if (!change.from.includes(p.status)) return { changed: false, current: p };
    if (change.leaseToken !== undefined && change.leaseToken !== p.lease_token) {
      return { changed: false, current: p };
    }
    const release = change.releaseLease || change.to !== 'processing';
    this.payout = {
      ...p,
      status: change.to,
      provider_reference: change.providerReference ?? p.provider_reference,
      lease_owner: release ? null : p.lease_owner,
      lease_expires_at: release ? null : p.lease_expires_at,
      outcome_unknown_at: change.markOutcomeUnknown
        ? (p.outcome_unknown_at ?? new Date(this.now))
        : p.outcome_unknown_at,
    };
    if (change.reverseDebit) this.reversals += 1;
    if (change.notification) this.notifications.push(change.notification);
    this.events.push({ from: p.status, to: change.to, detail: change.detail });
    return { changed: true, payout: this.payout, previous: p.status };
  }

  async note(_id: string, status: PayoutStatus, detail: string) {
    this.events.push({ from: status, to: status, detail });
  }
}

type Transfer = (request: TransferRequest, signal: AbortSignal) => Promise<{ reference: string }>;

function setup(status: PayoutStatus, transfer: Transfer, lookup?: () => Promise<LookupResult>) {
  const store = new InMemoryPayouts(status);
  const provider: PaymentProvider & { calls: TransferRequest[]; lookups: number } = {
    name: 'fake',
    calls: [],
    lookups: 0,
    transfer(request, { signal }) {
      this.calls.push(request);
      return transfer(request, signal);
    },
    lookup() {
      this.lookups += 1;
      return lookup ? lookup() : Promise.resolve({ status: 'not_found' });
    },
  };
  const notified: Array<[string, string]> = [];
  const notifier = {
    payoutFinished: async (id: string, outcome: string) => void notified.push([id, outcome]),
  } as unknown as PayoutNotifier;
  const correlation = { id: 'corr-1' } as CorrelationContext;
  const config = { payouts: { leaseMs: LEASE_MS, providerTimeoutMs: 200 } } as AppConfig;
  const service = new PayoutProcessingService(
    store as unknown as PayoutRepository,
    provider,
    notifier,
    correlation,
    config,
    { record: () => undefined } as unknown as ProviderMetrics,
  );
  return { store, provider, notified, service };
}

const first: AttemptInfo = { attempt: 1, maxAttempts: 3 };
const last: AttemptInfo = { attempt: 3, maxAttempts: 3 };
const paid = async () => ({ reference: 'tr_1' });
const rateLimited = async () => {
  throw new TransientProviderError('HTTP 429', { rateLimited: true });
};
const timedOut = async () => {
  throw new TransientProviderError('socket timeout after sending', { outcomeUnknown: true });
};

describe('PayoutProcessingService', () => {
  it('pays a pending payout with the payout ID as idempotency key, releases the lease, notifies', async () => {
    const { store, provider, notified, service } = setup('pending', paid);
    await expect(service.process(store.payout.id, first)).resolves.toEqual({
      outcome: 'paid',
      reference: 'tr_1',
    });
    expect(provider.calls[0]).toMatchObject({
      idempotencyKey: store.payout.id,
      amountMinor: 12_345,
    });
    expect(store.payout).toMatchObject({
      status: 'paid',
      lease_owner: null,
      provider_reference: 'tr_1',
    });
    expect(notified).toEqual([[store.payout.id, 'paid']]);
    expect(store.notifications).toEqual([
      {
        dedupeKey: `payout:${store.payout.id}:paid`,
        recipient: 'ada@example.test',
        subject: 'Your payout of 123.45 EUR has been sent',
        body: 'Hello Ada,\n\nWe have sent you 123.45 EUR (reference tr_1).\n',
      },
    ]);
  });

  it('skips a finished payout and re-sends its notification', async () => {
    const { store, provider, notified, service } = setup('paid', paid);
    await expect(service.process(store.payout.id, first)).resolves.toEqual({
      outcome: 'skipped',
      status: 'paid',
    });
    expect(provider.calls).toHaveLength(0);
    expect(notified).toEqual([[store.payout.id, 'paid']]);
  });

  it('answers busy while another worker holds a live lease, and calls nothing', async () => {
    const { store, provider, service } = setup('pending', paid);
    await store.claim(store.payout.id, {
      owner: 'other',
      durationMs: LEASE_MS,
      detail: '',
      correlationId: null,
    });
    await expect(service.process(store.payout.id, first)).resolves.toMatchObject({
      outcome: 'busy',
      leaseOwner: 'other',
    });
    expect(provider.calls).toHaveLength(0);
  });

  it('fails a refused payout and gives the amount back once', async () => {
    const { store, notified, service } = setup('pending', async () => {
      throw new PermanentProviderError('account closed');
    });
    await expect(service.process(store.payout.id, first)).resolves.toMatchObject({
      outcome: 'failed',
    });
    expect(store.reversals).toBe(1);
    expect(notified).toEqual([[store.payout.id, 'failed']]);
    expect(store.notifications).toMatchObject([
      {
        dedupeKey: `payout:${store.payout.id}:failed`,
        body: expect.stringContaining('could not be sent: refused by fake: account closed.'),
      },
    ]);
  });

  it('retries a known transient error (lease released, nothing marked) and gives up on the last attempt', async () => {
    const { store, service } = setup('pending', rateLimited);
    await expect(service.process(store.payout.id, first)).rejects.toBeInstanceOf(RetryPayoutError);
    expect(store.payout).toMatchObject({
      status: 'processing',
      lease_owner: null,
      outcome_unknown_at: null,
    });
    await expect(service.process(store.payout.id, last)).resolves.toMatchObject({
      outcome: 'failed',
    });
    expect(store.reversals).toBe(1);
  });

  it('never pays and refunds: an unknown outcome, then a 429 on the last attempt, asks the provider', async () => {
    let call = 0;
    const { store, provider, service } = setup(
      'pending',
      () => (++call === 1 ? timedOut() : rateLimited()),
      async () => ({ status: 'paid', reference: 'tr_first' }),
    );
    await expect(service.process(store.payout.id, first)).rejects.toBeInstanceOf(RetryPayoutError);
    expect(store.payout.outcome_unknown_at).not.toBeNull();
    await expect(service.process(store.payout.id, last)).resolves.toEqual({
      outcome: 'paid',
      reference: 'tr_first',
    });
    expect(provider.lookups).toBe(1);
    expect(store.reversals).toBe(0);
  });

  it('after an unknown outcome, a 429 on the last attempt with "not found" inside the lease leaves it processing', async () => {
    let call = 0;
    const { store, service } = setup('pending', () => (++call === 1 ? timedOut() : rateLimited()));
    await expect(service.process(store.payout.id, first)).rejects.toBeInstanceOf(RetryPayoutError);
    await expect(service.process(store.payout.id, last)).resolves.toMatchObject({
      outcome: 'left-processing',
    });
    expect(store.payout.status).toBe('processing');
    expect(store.reversals).toBe(0);
    expect(store.notifications).toEqual([]);
  });

  it('a refusal after a take-over fails only when the provider confirms the decline', async () => {
    const { store, service } = setup(
      'pending',
      async () => {
        throw new PermanentProviderError('account closed');
      },
      async () => ({ status: 'declined', reason: 'account closed' }),
    );
    await store.claim(store.payout.id, {
      owner: 'frozen',
      durationMs: LEASE_MS,
      detail: '',
      correlationId: null,
    });
    store.now += LEASE_MS + 1; // the holder froze past its lease
    await expect(service.process(store.payout.id, first)).resolves.toMatchObject({
      outcome: 'failed',
    });
    expect(store.reversals).toBe(1);
  });

  it('a take-over marks the payout "money may have moved"', async () => {
    const { store, service } = setup('pending', rateLimited);
    await store.claim(store.payout.id, {
      owner: 'frozen',
      durationMs: LEASE_MS,
      detail: '',
      correlationId: null,
    });
    store.now += LEASE_MS + 1;
    await expect(service.process(store.payout.id, last)).resolves.toMatchObject({
      outcome: 'left-processing',
    });
    expect(store.payout.outcome_unknown_at).not.toBeNull();
    expect(store.reversals).toBe(0);
  });

  it("refuses a stale worker's finish after its lease was taken over", async () => {
    const { store, service } = setup('pending', async () => {
      // While this call is in flight the worker freezes; another one takes the payout over.
      store.now += LEASE_MS + 1;
      await store.claim(store.payout.id, {
        owner: 'rescuer',
        durationMs: LEASE_MS,
        detail: '',
        correlationId: null,
      });
      return { reference: 'tr_1' };
    });
    await expect(service.process(store.payout.id, first)).resolves.toMatchObject({
      outcome: 'stale',
    });
    expect(store.payout).toMatchObject({ status: 'processing', lease_owner: 'rescuer' });
    expect(store.events.at(-1)?.detail).toMatch(/finish \(paid \(tr_1\)\) was refused/);
    expect(store.notifications).toEqual([]); // the refused finish created no notification
  });

  it('cuts a call that never answers at the deadline, even if the adapter ignores the signal', async () => {
    const { store, service } = setup('pending', () => new Promise(() => undefined));
    await expect(service.process(store.payout.id, first)).rejects.toBeInstanceOf(RetryPayoutError);
    expect(store.payout).toMatchObject({ status: 'processing', lease_owner: null });
    expect(store.payout.outcome_unknown_at).not.toBeNull();
  });

  it('reports a payout that does not exist as a permanent job error', async () => {
    const { service, store } = setup('pending', paid);
    store.findById = async () => undefined as never;
    store.claim = async () => undefined;
    await expect(service.process('missing', first)).rejects.toBeInstanceOf(PermanentJobError);
  });
});
