import { Logger, OnApplicationShutdown } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { closeDatabase, Database } from '../../database';
import {
  LookupResult,
  PaymentProvider,
  PermanentProviderError,
  TransferRequest,
  TransferResult,
  TransientProviderError,
} from './payment-provider';

export interface SimulatedProviderSettings {
  latencyMs: number;
  transientFailureRate: number;
  permanentFailureRate: number;
  /** The first N calls of each idempotency key fail transiently. */
  failFirstAttempts: number;
  /** Charged, then the answer is lost on the way back. */
  lostResponseRate: number;
  /** Charged, then answered HTTP 500. */
  errorAfterCommitRate: number;
  /** Never answers (half of them after charging): only the caller's deadline ends the call. */
  hangRate: number;
  /** Calls per second over all workers before 429; 0 = no limit. */
  rateLimitPerSecond: number;
}

type Decision =
  | { kind: 'answer'; result: TransferResult }
  | { kind: 'refuse'; error: Error }
  | { kind: 'charged-then'; failure: 'lost' | 'error' | 'hang' }
  | { kind: 'hang' };

/**
 * A payment provider that moves no money but behaves like the real ones, unkind parts included:
 * idempotent on the key, slow, rate-limited before it looks at the key (429), and sometimes
 * charging without the caller learning it (a lost response, a 500 after the commit, a call that
 * hangs until the caller's deadline). Its books are a PostgreSQL table
 * (simulated_provider_charges) shared by every worker process, so tests and benchmarks can count
 * charges per payout whichever process made them, and `lookup` reads them as a real provider's
 * "retrieve by idempotency key" does.
 *
 * It has its own small connection pool, as an outside system would: it holds a connection only
 * for its own short statements, never while it waits.
 */
export class SimulatedPaymentProvider implements PaymentProvider, OnApplicationShutdown {
  readonly name = 'simulated';
  private readonly logger = new Logger(SimulatedPaymentProvider.name);

  constructor(
    private readonly db: Database,
    private readonly settings: SimulatedProviderSettings,
    private readonly random: () => number = Math.random,
  ) {}

  async transfer(
    request: TransferRequest,
    { signal }: { signal: AbortSignal },
  ): Promise<TransferResult> {
    try {
      await this.checkRateLimit();
      const decision = await this.decide(request);
      if (
        decision.kind === 'hang' ||
        (decision.kind === 'charged-then' && decision.failure === 'hang')
      ) {
        await sleep(2 ** 31 - 1, undefined, { signal }); // until the caller gives up
      }
      await sleep(this.settings.latencyMs, undefined, { signal });
      switch (decision.kind) {
        case 'answer':
          return decision.result;
        case 'refuse':
          throw decision.error;
        case 'charged-then':
          throw new TransientProviderError(
            decision.failure === 'lost'
              ? 'Simulated provider: connection reset before the answer arrived'
              : 'Simulated provider: HTTP 500 Internal Server Error',
            { outcomeUnknown: true },
          );
        case 'hang':
          throw new Error('unreachable: a hanging call only ends by its signal');
      }
    } catch (error) {
      if (error instanceof TransientProviderError || error instanceof PermanentProviderError) {
        throw error;
      }
      if (signal.aborted) {
        throw new TransientProviderError('Simulated provider: no answer before the deadline', {
          cause: error,
          outcomeUnknown: true,
        });
      }
      // The provider's own storage failed: as with a real provider's 5xx, it may have charged.
      throw new TransientProviderError(
        `Simulated provider unavailable: ${(error as Error).message}`,
        { cause: error, outcomeUnknown: true },
      );
    }
  }

  async lookup(idempotencyKey: string): Promise<LookupResult> {
    try {
      const row = await this.db
        .selectFrom('simulated_provider_charges')
        .select(['reference', 'declined_reason'])
        .where('idempotency_key', '=', idempotencyKey)
        .executeTakeFirst();
      if (row?.reference) return { status: 'paid', reference: row.reference };
      if (row?.declined_reason) return { status: 'declined', reason: row.declined_reason };
      return { status: 'not_found' };
    } catch (error) {
      return { status: 'unknown', reason: (error as Error).message };
    }
  }

  /** Real providers refuse past their rate before they look at the idempotency key. */
  private async checkRateLimit(): Promise<void> {
    const limit = this.settings.rateLimitPerSecond;
    if (limit === 0) return;
    const { rows } = await sql<{ calls: number }>`
      INSERT INTO simulated_provider_rate (second, calls)
      VALUES (floor(extract(epoch FROM clock_timestamp()))::bigint, 1)
      ON CONFLICT (second) DO UPDATE SET calls = simulated_provider_rate.calls + 1
      RETURNING calls
    `.execute(this.db);
    const calls = rows[0]?.calls ?? 0;
    if (calls === 1) {
      await sql`
        DELETE FROM simulated_provider_rate
        WHERE second < floor(extract(epoch FROM clock_timestamp()))::bigint - 60
      `.execute(this.db);
    }
    if (calls > limit) {
      throw new TransientProviderError('Simulated provider: HTTP 429 Too Many Requests', {
        rateLimited: true,
      });
    }
  }

  private async decide(request: TransferRequest): Promise<Decision> {
    const key = request.idempotencyKey;
    const row = await this.db
      .insertInto('simulated_provider_charges')
      .values({
        idempotency_key: key,
        payee_id: request.payee.id,
        amount_minor: request.amountMinor,
        currency: request.currency,
      })
      .onConflict((oc) =>
        oc.column('idempotency_key').doUpdateSet({
          request_count: sql`simulated_provider_charges.request_count + 1`,
        }),
      )
      .returning(['request_count', 'reference', 'declined_reason', 'amount_minor', 'currency'])
      .executeTakeFirstOrThrow();

    if (row.amount_minor !== request.amountMinor || row.currency !== request.currency) {
      // What Stripe answers when an idempotency key comes back with other parameters.
      return this.refuse(
        new PermanentProviderError(
          `Idempotency key ${key} was used for ${row.amount_minor} ${row.currency}, not ${request.amountMinor} ${request.currency}`,
        ),
      );
    }
    if (row.reference) return this.answer(await this.charge(key)); // a replay: no new charge
    if (row.declined_reason) return this.refuse(new PermanentProviderError(row.declined_reason));
    if (row.request_count <= this.settings.failFirstAttempts) {
      return this.refuse(
        new TransientProviderError(
          `Simulated provider outage (call ${row.request_count} of the first ${this.settings.failFirstAttempts} failing)`,
        ),
      );
    }
    const s = this.settings;
    let roll = this.random();
    if ((roll -= s.permanentFailureRate) < 0) {
      const reason = 'Simulated refusal: the destination account is closed';
      await this.db
        .updateTable('simulated_provider_charges')
        .set({ declined_reason: reason })
        .where('idempotency_key', '=', key)
        .where('reference', 'is', null)
        .execute();
      return this.refuse(new PermanentProviderError(reason));
    }
    if ((roll -= s.transientFailureRate) < 0) {
      return this.refuse(new TransientProviderError('Simulated provider: HTTP 503, nothing done'));
    }
    if ((roll -= s.hangRate) < 0) {
      if (this.random() < 0.5) return { kind: 'hang' };
      await this.charge(key);
      return { kind: 'charged-then', failure: 'hang' };
    }
    if ((roll -= s.lostResponseRate) < 0) {
      await this.charge(key);
      return { kind: 'charged-then', failure: 'lost' };
    }
    if ((roll -= s.errorAfterCommitRate) < 0) {
      await this.charge(key);
      return { kind: 'charged-then', failure: 'error' };
    }
    return this.answer(await this.charge(key));
  }

  private answer(result: TransferResult): Decision {
    return { kind: 'answer', result };
  }

  private refuse(error: Error): Decision {
    return { kind: 'refuse', error };
  }

  /** Charges once: concurrent calls with one key all get the first reference. */
  private async charge(key: string): Promise<TransferResult> {
    const fresh = `sim_${randomBytes(12).toString('hex')}`;
    const row = await this.db
      .updateTable('simulated_provider_charges')
      .set({
        reference: sql<string>`coalesce(reference, ${fresh})`,
        charged_at: sql<Date>`coalesce(charged_at, now())`,
        charge_count: sql<number>`charge_count + 1`,
      })
      .where('idempotency_key', '=', key)
      .returning(['reference', 'charge_count'])
      .executeTakeFirstOrThrow();
    if (row.charge_count > 1) {
      this.logger.log(`Idempotent replay of ${key}: returning ${row.reference}, no new charge`);
    }
    return { reference: row.reference as string };
  }

  async onApplicationShutdown(): Promise<void> {
    await closeDatabase(this.db);
  }
}
