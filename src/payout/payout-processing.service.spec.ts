import 'reflect-metadata';
import { PayoutStatus } from '../database';
import { CorrelationContext } from '../correlation';
import { PermanentJobError } from '../queue';
import { PayoutNotifier } from './payout.notifier';
import {
  PayoutRepository,
  PayoutWithPayee,
  Transition,
  TransitionResult,
} from './payout.repository';
import { AttemptInfo, PayoutProcessingService } from './payout-processing.service';
import {
  PaymentProvider,
  PermanentProviderError,
  TransferRequest,
  TransientProviderError,
} from './provider/payment-provider';

/** The repository's contract in memory: conditional transitions, history, reversals. */
class InMemoryPayouts {
  payout: PayoutWithPayee;
  events: Array<{ from: PayoutStatus | null; to: PayoutStatus; detail: string }> = [];
  reversals = 0;
  lockHeld = false;

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
      payee_name: 'Ada',
      payee_email: 'ada@example.test',
    };
  }

  async withProcessingLock<T>(_id: string, fn: (repo: unknown) => Promise<T>) {
    if (this.lockHeld) return { acquired: false as const };
    this.lockHeld = true;
    try {
      return { acquired: true as const, value: await fn(this) };
    } finally {
      this.lockHeld = false;
    }
  }

  async findWithPayee(id: string) {
    return id === this.payout.id ? { ...this.payout } : undefined;
  }

  async transition(_id: string, change: Transition): Promise<TransitionResult> {
    if (!change.from.includes(this.payout.status)) return { changed: false, current: this.payout };
    const previous = this.payout.status;
    this.payout = { ...this.payout, status: change.to };
    if (change.startAttempt) this.payout.attempts += 1;
    if (change.providerReference) this.payout.provider_reference = change.providerReference;
    if (change.reverseDebit) this.reversals += 1;
    this.events.push({ from: previous, to: change.to, detail: change.detail });
    return { changed: true, payout: this.payout, previous };
  }

  async note(_id: string, status: PayoutStatus, detail: string) {
    this.events.push({ from: status, to: status, detail });
  }
}

function setup(
  status: PayoutStatus,
  transfer: (request: TransferRequest) => Promise<{ reference: string }>,
) {
  const store = new InMemoryPayouts(status);
  const provider: PaymentProvider & { calls: TransferRequest[] } = {
    name: 'fake',
    calls: [],
    transfer(request) {
      this.calls.push(request);
      return transfer(request);
    },
  };
  const notified: Array<[string, string]> = [];
  const notifier = {
    payoutFinished: async (id: string, outcome: string) => void notified.push([id, outcome]),
  } as unknown as PayoutNotifier;
  const correlation = { id: 'corr-1' } as CorrelationContext;
  const service = new PayoutProcessingService(
    store as unknown as PayoutRepository,
    provider,
    notifier,
    correlation,
  );
  return { store, provider, notified, service };
}

const first: AttemptInfo = { attempt: 1, maxAttempts: 3 };
const last: AttemptInfo = { attempt: 3, maxAttempts: 3 };

describe('PayoutProcessingService', () => {
  it('pays a pending payout with the payout ID as idempotency key, and notifies', async () => {
    const { store, provider, notified, service } = setup('pending', async () => ({
      reference: 'tr_1',
    }));
    await expect(service.process(store.payout.id, first)).resolves.toEqual({
      outcome: 'paid',
      reference: 'tr_1',
    });
    expect(provider.calls).toEqual([
      {
        idempotencyKey: store.payout.id,
        amountMinor: 12_345,
        currency: 'EUR',
        payee: { id: 7, name: 'Ada', email: 'ada@example.test' },
      },
    ]);
    expect(store.payout).toMatchObject({ status: 'paid', provider_reference: 'tr_1', attempts: 1 });
    expect(store.events.map((e) => `${e.from}>${e.to}`)).toEqual([
      'pending>processing',
      'processing>paid',
    ]);
    expect(notified).toEqual([[store.payout.id, 'paid']]);
  });

  it.each(['paid', 'failed', 'cancelled'] as const)(
    'skips a %s payout without calling the provider',
    async (status) => {
      const { store, provider, service } = setup(status, async () => ({ reference: 'never' }));
      await expect(service.process(store.payout.id, first)).resolves.toEqual({
        outcome: 'skipped',
        status,
      });
      expect(provider.calls).toHaveLength(0);
      expect(store.events).toHaveLength(0);
    },
  );

  it('re-sends the notification of a finished payout (it may have been lost in a crash)', async () => {
    const { store, notified, service } = setup('paid', async () => ({ reference: 'x' }));
    await service.process(store.payout.id, first);
    expect(notified).toEqual([[store.payout.id, 'paid']]);
  });

  it('takes over a payout left processing (a dead worker), relying on the idempotency key', async () => {
    const { store, provider, service } = setup('processing', async () => ({ reference: 'tr_2' }));
    await expect(service.process(store.payout.id, first)).resolves.toMatchObject({
      outcome: 'paid',
    });
    expect(provider.calls).toHaveLength(1);
    expect(store.events[0]).toMatchObject({ from: 'processing', to: 'processing' });
  });

  it('does nothing while another worker holds the payout', async () => {
    const { store, provider, service } = setup('pending', async () => ({ reference: 'x' }));
    store.lockHeld = true;
    await expect(service.process(store.payout.id, first)).resolves.toEqual({ outcome: 'busy' });
    expect(provider.calls).toHaveLength(0);
  });

  it('fails a refused payout at once, gives the balance back and notifies', async () => {
    const { store, notified, service } = setup('pending', async () => {
      throw new PermanentProviderError('account closed');
    });
    await expect(service.process(store.payout.id, first)).resolves.toEqual({
      outcome: 'failed',
      reason: 'refused by fake: account closed',
    });
    expect(store.payout.status).toBe('failed');
    expect(store.reversals).toBe(1);
    expect(notified).toEqual([[store.payout.id, 'failed']]);
  });

  it('throws a transient error before the last attempt (Bull retries), recording it', async () => {
    const error = new TransientProviderError('rate limited');
    const { store, notified, service } = setup('pending', async () => {
      throw error;
    });
    await expect(service.process(store.payout.id, first)).rejects.toBe(error);
    expect(store.payout.status).toBe('processing');
    expect(store.reversals).toBe(0);
    expect(store.events[1]).toEqual({
      from: 'processing',
      to: 'processing',
      detail: 'attempt 1 failed: rate limited',
    });
    expect(notified).toEqual([]);
  });

  it('handles a transient error on the last attempt like a refusal', async () => {
    const { store, service } = setup('processing', async () => {
      throw new TransientProviderError('still down');
    });
    await expect(service.process(store.payout.id, last)).resolves.toEqual({
      outcome: 'failed',
      reason: 'gave up after 3 attempts: still down',
    });
    expect(store.reversals).toBe(1);
  });

  it('never gives the balance back when the outcome is unknown: leaves it processing for the reconciler', async () => {
    const { store, notified, service } = setup('processing', async () => {
      throw new TransientProviderError('timed out after sending', { outcomeUnknown: true });
    });
    await expect(service.process(store.payout.id, last)).resolves.toEqual({
      outcome: 'left-processing',
      reason: 'timed out after sending',
    });
    expect(store.payout.status).toBe('processing');
    expect(store.reversals).toBe(0);
    expect(notified).toEqual([]);
  });

  it('refuses a payout that does not exist, for good', async () => {
    const { service } = setup('pending', async () => ({ reference: 'x' }));
    await expect(service.process('00000000-0000-4000-8000-000000000000', first)).rejects.toThrow(
      PermanentJobError,
    );
  });
});
