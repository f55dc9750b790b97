import {
  BadRequestException,
  ConflictException,
  Inject,
  Injectable,
  NotFoundException,
} from '@nestjs/common';
import { Kysely } from 'kysely';
import { CorrelationContext } from '../correlation';
import { Database, DatabaseSchema } from '../database';
import { JobName, JobProducer } from '../queue';
import { ListPayoutsQuery } from './dto/list-payouts.query';
import { PayoutCursor, PayoutQueryRepository } from './payout-query.repository';
import { PayoutRepository } from './payout.repository';
import { PayoutEventView, PayoutView, toPayoutEventView, toPayoutView } from './payout.view';

export interface Accepted {
  jobId: string;
  correlationId: string;
}

/** What the HTTP API asks of payouts; every write goes through a job or the state machine. */
@Injectable()
export class PayoutAdminService {
  constructor(
    private readonly payouts: PayoutRepository,
    private readonly query: PayoutQueryRepository,
    private readonly producer: JobProducer,
    private readonly correlation: CorrelationContext,
    @Inject(Database) private readonly db: Kysely<DatabaseSchema>,
  ) {}

  async requestCycle(): Promise<Accepted> {
    const job = await this.producer.enqueue(JobName.PayoutCycle, { trigger: 'manual' });
    return { jobId: String(job.id), correlationId: job.data.meta.correlationId };
  }

  async requestPayeePayout(payeeId: number): Promise<Accepted> {
    const payee = await this.db
      .selectFrom('payees')
      .select(['id', 'active'])
      .where('id', '=', payeeId)
      .executeTakeFirst();
    if (!payee) throw new NotFoundException(`Payee ${payeeId} does not exist`);
    if (!payee.active) throw new ConflictException(`Payee ${payeeId} is inactive`);
    const job = await this.producer.enqueue(JobName.PayoutPayPayee, { payeeId });
    return { jobId: String(job.id), correlationId: job.data.meta.correlationId };
  }

  async list(
    q: ListPayoutsQuery,
  ): Promise<{ items: PayoutView[]; nextCursor: string | null; total: number }> {
    const filters = {
      status: q.status,
      payeeId: q.payeeId,
      from: q.from ? new Date(q.from) : undefined,
      to: q.to ? new Date(q.to) : undefined,
    };
    const [rows, total] = await Promise.all([
      this.query.list(filters, q.limit + 1, q.cursor ? decodeCursor(q.cursor) : undefined),
      this.query.count(filters),
    ]);
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toPayoutView),
      nextCursor:
        rows.length > q.limit && last
          ? encodeCursor({ createdAt: last.cursor_ts, id: last.id })
          : null,
      total,
    };
  }

  async get(id: string): Promise<PayoutView & { events: PayoutEventView[] }> {
    const found = await this.query.findWithEvents(id);
    if (!found) throw new NotFoundException(`Payout ${id} does not exist`);
    return { ...toPayoutView(found.payout), events: found.events.map(toPayoutEventView) };
  }

  /** Only a `pending` payout can be cancelled; its amount goes back to the balance. */
  async cancel(id: string): Promise<PayoutView> {
    const result = await this.payouts.transition(id, {
      from: ['pending'],
      to: 'cancelled',
      finish: true,
      reverseDebit: true,
      detail: 'cancelled by an administrator',
      correlationId: this.correlation.id ?? null,
    });
    if (result.changed) return toPayoutView(result.payout);
    if (!result.current) throw new NotFoundException(`Payout ${id} does not exist`);
    throw new ConflictException(
      `Payout ${id} is ${result.current.status}: only a pending payout can be cancelled`,
    );
  }
}

function encodeCursor(cursor: PayoutCursor): string {
  return Buffer.from(`${cursor.createdAt}|${cursor.id}`).toString('base64url');
}

function decodeCursor(text: string): PayoutCursor {
  const [createdAt, id] = Buffer.from(text, 'base64url').toString('utf8').split('|');
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  if (!createdAt || Number.isNaN(Date.parse(createdAt)) || !id || !uuid.test(id)) {
    throw new BadRequestException('cursor must be a nextCursor from a previous page');
  }
  return { createdAt, id };
}
