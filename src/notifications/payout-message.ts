/** The email of a finished payout. Amounts are integer minor units until printed here. */
export interface PayoutMessageInput {
  outcome: 'paid' | 'failed';
  payeeName: string;
  amountMinor: number;
  currency: string;
  providerReference: string | null;
  lastError: string | null;
}

/** The notification row of a payout outcome: one per payout and outcome (unique dedupe key). */
export interface PayoutNotificationRow {
  dedupeKey: string;
  recipient: string;
  subject: string;
  body: string;
}

export function payoutNotificationKey(payoutId: string, outcome: 'paid' | 'failed'): string {
  return `payout:${payoutId}:${outcome}`;
}

/** The row the notification job will send, composed where the payout's outcome is written. */
export function payoutNotificationRow(
  payoutId: string,
  recipient: string,
  input: PayoutMessageInput,
): PayoutNotificationRow {
  return {
    dedupeKey: payoutNotificationKey(payoutId, input.outcome),
    recipient,
    ...composePayoutMessage(input),
  };
}

export function composePayoutMessage(input: PayoutMessageInput): { subject: string; body: string } {
  const amount = formatMinor(input.amountMinor, input.currency);
  if (input.outcome === 'paid') {
    return {
      subject: `Your payout of ${amount} has been sent`,
      body:
        `Hello ${input.payeeName},\n\nWe have sent you ${amount}` +
        (input.providerReference ? ` (reference ${input.providerReference})` : '') +
        '.\n',
    };
  }
  return {
    subject: `Your payout of ${amount} could not be sent`,
    body:
      `Hello ${input.payeeName},\n\nYour payout of ${amount} could not be sent` +
      (input.lastError ? `: ${input.lastError}` : '') +
      '.\nThe amount is back in your balance and will be paid with your next payout.\n',
  };
}

/** 123456 EUR -> "1234.56 EUR"; 500 JPY -> "500 JPY" (the currency's own number of decimals). */
export function formatMinor(amountMinor: number, currency: string): string {
  const digits = currencyDigits(currency);
  const sign = amountMinor < 0 ? '-' : '';
  const abs = Math.abs(amountMinor);
  const major = Math.floor(abs / 10 ** digits);
  const minor = String(abs % 10 ** digits).padStart(digits, '0');
  return `${sign}${major}${digits > 0 ? `.${minor}` : ''} ${currency}`;
}

/** Digits by currency: building an Intl.NumberFormat per message was 2% of a payout's worker CPU. */
const digitsByCurrency = new Map<string, number>();

function currencyDigits(currency: string): number {
  let digits = digitsByCurrency.get(currency);
  if (digits === undefined) {
    try {
      digits =
        new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions()
          .maximumFractionDigits ?? 2;
    } catch {
      digits = 2; // not an ISO 4217 code Intl knows
    }
    // Currencies come from our own rows; the bound only guards against a flood of odd codes.
    if (digitsByCurrency.size < 1000) digitsByCurrency.set(currency, digits);
  }
  return digits;
}
