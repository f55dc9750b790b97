import { ApiProperty } from '@nestjs/swagger';
import type { Accepted } from '../payout-admin.service';
import type { PayoutEventView, PayoutView } from '../payout.view';
import { PAYOUT_STATUSES } from './list-payouts.query';

/*
 * The OpenAPI shapes of the payout answers. Each class implements the interface the service
 * returns, so a field added there and not here fails to compile (dates are Date in the
 * service, ISO strings on the wire).
 */

export class AcceptedView implements Accepted {
  @ApiProperty({ description: 'The job that does the work' }) jobId!: string;
  @ApiProperty({ description: 'Find its trail with GET /jobs/by-correlation/{correlationId}' })
  correlationId!: string;
}

export class PayoutViewDoc
  implements Omit<PayoutView, 'createdAt' | 'updatedAt' | 'processingStartedAt' | 'finishedAt'>
{
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() payeeId!: number;
  @ApiProperty({ description: 'Integer minor units (cents)' }) amountMinor!: number;
  @ApiProperty({ example: 'EUR' }) currency!: string;
  @ApiProperty({ enum: PAYOUT_STATUSES }) status!: PayoutView['status'];
  @ApiProperty({ description: "The provider's idempotency key" }) idempotencyKey!: string;
  @ApiProperty({ type: String, nullable: true }) providerReference!: string | null;
  @ApiProperty() attempts!: number;
  @ApiProperty({ type: String, nullable: true }) lastError!: string | null;
  @ApiProperty({ type: String, nullable: true }) correlationId!: string | null;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: String, format: 'date-time' }) updatedAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  processingStartedAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) finishedAt!: string | null;
}

export class PayoutEventViewDoc implements Omit<PayoutEventView, 'createdAt'> {
  @ApiProperty() id!: number;
  @ApiProperty({ enum: PAYOUT_STATUSES, nullable: true })
  fromStatus!: PayoutEventView['fromStatus'];
  @ApiProperty({ enum: PAYOUT_STATUSES }) toStatus!: PayoutEventView['toStatus'];
  @ApiProperty({ type: String, nullable: true }) detail!: string | null;
  @ApiProperty({ type: String, nullable: true }) correlationId!: string | null;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: string;
}

export class PayoutDetailView extends PayoutViewDoc {
  @ApiProperty({ type: [PayoutEventViewDoc], description: 'Status changes, oldest first' })
  events!: PayoutEventViewDoc[];
}

export class PayoutPageView {
  @ApiProperty({ type: [PayoutViewDoc] }) items!: PayoutViewDoc[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass it as cursor for the next page' })
  nextCursor!: string | null;
  @ApiProperty({
    description: 'Payouts matching the filters, all pages together (to watch progress)',
  })
  total!: number;
}
