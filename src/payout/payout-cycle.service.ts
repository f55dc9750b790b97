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

export type PayPayeeResult =
  | { payoutId: string; amountMinor: number; currency: string }
  | { payoutId: null; reason: string };

/**
 * The payout cycle: every active payee whose balance reached its minimum gets one `pending`
 * payout (with its ledger debit, in one transaction), then one job per payout whose job ID is
 * the payout ID. Payees are read in keyset pages by id, so memory stays constant.
 *
 * A crash between the commit and the enqueue leaves `pending` payouts without jobs: the
 * reconciler enqueues them after PAYOUT_STUCK_AFTER. Nothing is paid twice meanwhile.
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

  async runCycle(onBatch?: (summary: CycleSummary) => Promise<void> | void): Promise<CycleSummary> {
    const started = Date.now();
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
      const created = await this.createAndEnqueue(due, false, 'created by the payout cycle');
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
  async payPayee(payeeId: number): Promise<PayPayeeResult> {
    const [created] = await this.createAndEnqueue([payeeId], true, 'created by pay-now');
    if (!created) {
      return { payoutId: null, reason: 'no positive balance, or the payee is unknown or inactive' };
    }
    return { payoutId: created.id, amountMinor: created.amountMinor, currency: created.currency };
  }

  private async createAndEnqueue(
    payeeIds: number[],
    ignoreMinimum: boolean,
    detail: string,
  ): Promise<CreatedPayout[]> {
    const created = await this.ledger.createPayouts(payeeIds, {
      ignoreMinimum,
      correlationId: this.correlation.currentOrNew(),
      detail,
    });
    await this.producer.enqueueBulk(
      JobName.PayoutProcess,
      created.map((payout) => ({ payload: { payoutId: payout.id }, jobId: payout.id })),
    );
    return created;
  }
}
