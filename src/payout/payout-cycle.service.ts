import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config';
import { CorrelationContext } from '../correlation';
import { JobName, JobProducer } from '../queue';
import { CreatedPayout, LedgerRepository } from './ledger.repository';

export interface CycleSummary {
  payeesScanned: number;
  payoutsCreated: number;
  amountMinorByCurrency: Record<string, number>;
  durationMs: number;
}

export interface CycleOptions {
  /** Called after each batch (the job reports progress). */
  onBatch?: (summary: CycleSummary) => Promise<void> | void;
  /** The job running this (`<job name>:<job id>`): recorded on each payout, see resumeInterrupted. */
  creatorJob?: string;
}

export type PayPayeeResult =
  | { payoutId: string; amountMinor: number; currency: string }
  | { payoutId: null; reason: string };

/**
 * The payout cycle: every active payee whose balance reached its minimum gets one `pending`
 * payout (with its ledger debit, in one transaction), then one job per payout whose job ID is
 * the payout ID. Payees are read in keyset pages by id, so memory stays constant.
 *
 * A crash between the commit and the enqueue leaves `pending` payouts without jobs. The job
 * that crashed runs again (Bull takes a dead worker's job over, with the same ID) and first
 * enqueues the pending payouts it created before (each payout records its creator job), so they
 * are paid within seconds; the reconciler remains the safety net for anything else
 * (PAYOUT_STUCK_AFTER). Enqueuing twice is harmless: the job ID is the payout ID.
 */
@Injectable()
export class PayoutCycleService {
  private readonly logger = new Logger(PayoutCycleService.name);

  constructor(
    private readonly ledger: LedgerRepository,
    private readonly producer: JobProducer,
    private readonly correlation: CorrelationContext,
    private readonly config: AppConfig,
  ) {}

  async runCycle({ onBatch, creatorJob }: CycleOptions = {}): Promise<CycleSummary> {
    const started = Date.now();
    await this.resumeInterrupted(creatorJob);
    const summary: CycleSummary = {
      payeesScanned: 0,
      payoutsCreated: 0,
      amountMinorByCurrency: {},
      durationMs: 0,
    };
    const batchSize = this.config.payouts.cycleBatchSize;
    let afterId = 0;
    for (;;) {
      const ids = await this.ledger.activePayeeIds(afterId, batchSize);
      if (ids.length === 0) break;
      afterId = ids[ids.length - 1];
      const due = await this.ledger.payeesDue(ids);
      const created = await this.createAndEnqueue(
        due,
        false,
        'created by the payout cycle',
        creatorJob,
      );
      summary.payeesScanned += ids.length;
      summary.payoutsCreated += created.length;
      for (const payout of created) {
        summary.amountMinorByCurrency[payout.currency] =
          (summary.amountMinorByCurrency[payout.currency] ?? 0) + payout.amountMinor;
      }
      summary.durationMs = Date.now() - started;
      await onBatch?.(summary);
    }
    summary.durationMs = Date.now() - started;
    this.logger.log(
      `Payout cycle: ${summary.payoutsCreated} payouts for ${summary.payeesScanned} payees in ${summary.durationMs} ms`,
    );
    return summary;
  }

  /** "Pay now": the payee's whole positive balance, whether or not it reached the minimum. */
  async payPayee(payeeId: number, creatorJob?: string): Promise<PayPayeeResult> {
    const [resumed] = await this.resumeInterrupted(creatorJob);
    const [created = resumed] = await this.createAndEnqueue(
      [payeeId],
      true,
      'created by pay-now',
      creatorJob,
    );
    if (!created) {
      return { payoutId: null, reason: 'no positive balance, or the payee is unknown or inactive' };
    }
    return { payoutId: created.id, amountMinor: created.amountMinor, currency: created.currency };
  }

  /**
   * A rerun of a creator job (its worker died between commit and enqueue) enqueues the payouts
   * it left `pending`. On a first run the indexed lookup finds nothing.
   */
  private async resumeInterrupted(creatorJob: string | undefined): Promise<CreatedPayout[]> {
    if (!creatorJob) return [];
    const orphans = await this.ledger.pendingCreatedBy(creatorJob);
    if (orphans.length === 0) return [];
    await this.enqueue(orphans);
    this.logger.warn(
      `Job ${creatorJob} ran again: enqueued ${orphans.length} pending payout(s) it had created`,
    );
    return orphans;
  }

  private async createAndEnqueue(
    payeeIds: number[],
    ignoreMinimum: boolean,
    detail: string,
    creatorJob: string | undefined,
  ): Promise<CreatedPayout[]> {
    const created = await this.ledger.createPayouts(payeeIds, {
      ignoreMinimum,
      correlationId: this.correlation.currentOrNew(),
      detail,
      createdByJob: creatorJob ?? null,
    });
    await this.enqueue(created);
    return created;
  }

  private async enqueue(payouts: CreatedPayout[]): Promise<void> {
    await this.producer.enqueueBulk(
      JobName.PayoutProcess,
      payouts.map((payout) => ({ payload: { payoutId: payout.id }, jobId: payout.id })),
    );
  }
}
