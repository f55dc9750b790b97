import { Payout, PayoutEvent } from '../database';

/** What the API shows of a payout: camelCase, amounts in integer minor units. */
export interface PayoutView {
  id: string;
  payeeId: number;
  amountMinor: number;
  currency: string;
  status: Payout['status'];
  idempotencyKey: string;
  providerReference: string | null;
  attempts: number;
  lastError: string | null;
  correlationId: string | null;
  createdAt: Date;
  updatedAt: Date;
  processingStartedAt: Date | null;
  finishedAt: Date | null;
}

export interface PayoutEventView {
  id: number;
  fromStatus: PayoutEvent['from_status'];
  toStatus: PayoutEvent['to_status'];
  detail: string | null;
  correlationId: string | null;
  createdAt: Date;
}

export function toPayoutView(payout: Payout): PayoutView {
  return {
    id: payout.id,
    payeeId: Number(payout.payee_id),
    amountMinor: Number(payout.amount_minor),
    currency: payout.currency,
    status: payout.status,
    idempotencyKey: payout.idempotency_key,
    providerReference: payout.provider_reference,
    attempts: payout.attempts,
    lastError: payout.last_error,
    correlationId: payout.correlation_id,
    createdAt: payout.created_at,
    updatedAt: payout.updated_at,
    processingStartedAt: payout.processing_started_at,
    finishedAt: payout.finished_at,
  };
}

export function toPayoutEventView(event: PayoutEvent): PayoutEventView {
  return {
    id: Number(event.id),
    fromStatus: event.from_status,
    toStatus: event.to_status,
    detail: event.detail,
    correlationId: event.correlation_id,
    createdAt: event.created_at,
  };
}
