import { Logger, OnApplicationShutdown } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { closeDatabase, Database } from '../../database';
import {
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
}

/**
 * A payment provider that moves no money but behaves like one: idempotent on the key, slow,
 * and failing transiently or permanently at configured rates. Its books are a PostgreSQL table
 * (simulated_provider_charges), shared by every worker process, so tests and benchmarks can
 * count charges per payout whichever process made them.
 *
 * The charge is recorded first and the answer comes back after the latency: a worker killed
 * while waiting leaves money moved but not yet acknowledged, the hard case for exactly-once.
 *
 * It gets its own connection pool, as an outside system would be: a payout job already holds
 * one of the app's connections while it waits for the provider.
 */
export class SimulatedPaymentProvider implements PaymentProvider, OnApplicationShutdown {
  readonly name = 'simulated';
  private readonly logger = new Logger(SimulatedPaymentProvider.name);

  constructor(
    private readonly db: Database,
    private readonly settings: SimulatedProviderSettings,
    private readonly random: () => number = Math.random,
  ) {}

  async transfer(request: TransferRequest): Promise<TransferResult> {
    try {
      const outcome = await this.decide(request);
      await sleep(this.settings.latencyMs);
      if (outcome instanceof Error) throw outcome;
      return outcome;
    } catch (error) {
      if (error instanceof TransientProviderError || error instanceof PermanentProviderError) {
        throw error;
      }
      // The provider's own storage failed: as with a real provider's 5xx, retrying may work.
      throw new TransientProviderError(
        `Simulated provider unavailable: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }

  private async decide(request: TransferRequest): Promise<TransferResult | Error> {
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
      return new PermanentProviderError(
        `Idempotency key ${key} was used for ${row.amount_minor} ${row.currency}, not ${request.amountMinor} ${request.currency}`,
      );
    }
    if (row.reference) return this.charge(key); // a replay: the same reference, no new charge
    if (row.declined_reason) return new PermanentProviderError(row.declined_reason);
    if (row.request_count <= this.settings.failFirstAttempts) {
      return new TransientProviderError(
        `Simulated provider outage (call ${row.request_count} of the first ${this.settings.failFirstAttempts} failing)`,
      );
    }
    const roll = this.random();
    if (roll < this.settings.permanentFailureRate) {
      const reason = 'Simulated refusal: the destination account is closed';
      await this.db
        .updateTable('simulated_provider_charges')
        .set({ declined_reason: reason })
        .where('idempotency_key', '=', key)
        .where('reference', 'is', null)
        .execute();
      return new PermanentProviderError(reason);
    }
    if (roll < this.settings.permanentFailureRate + this.settings.transientFailureRate) {
      return new TransientProviderError('Simulated provider rate limit (HTTP 429)');
    }
    return this.charge(key);
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
