import { isPermanentMailError } from './mailer';
import { composePayoutMessage, formatMinor } from './payout-message';

describe('formatMinor', () => {
  it.each([
    [123_456, 'EUR', '1234.56 EUR'],
    [5, 'USD', '0.05 USD'],
    [-250, 'GBP', '-2.50 GBP'],
    [500, 'JPY', '500 JPY'],
    [1_234, 'BHD', '1.234 BHD'],
  ])('%d %s is "%s"', (minor, currency, text) => expect(formatMinor(minor, currency)).toBe(text));
});

describe('composePayoutMessage', () => {
  it('tells a paid payee the amount and the reference', () => {
    const message = composePayoutMessage({
      outcome: 'paid',
      payeeName: 'Ada',
      amountMinor: 12_345,
      currency: 'EUR',
      providerReference: 'tr_9',
      lastError: null,
    });
    expect(message.subject).toBe('Your payout of 123.45 EUR has been sent');
    expect(message.body).toContain('We have sent you 123.45 EUR (reference tr_9).');
  });

  it('tells a payee whose payout failed that the amount is back in the balance', () => {
    const message = composePayoutMessage({
      outcome: 'failed',
      payeeName: 'Ada',
      amountMinor: 100,
      currency: 'USD',
      providerReference: null,
      lastError: 'account closed',
    });
    expect(message.subject).toBe('Your payout of 1.00 USD could not be sent');
    expect(message.body).toContain('could not be sent: account closed.');
    expect(message.body).toContain('back in your balance');
  });
});

describe('isPermanentMailError', () => {
  it.each([
    [{ responseCode: 550 }, true],
    [{ responseCode: 554, code: 'EENVELOPE' }, true],
    [{ responseCode: 451 }, false],
    [{ responseCode: 421 }, false],
    [{ code: 'ECONNECTION' }, false],
    [{ code: 'ETIMEDOUT' }, false],
    [{ code: 'EENVELOPE' }, true],
    [new Error('socket hang up'), false],
  ])('%j -> permanent %s', (error, permanent) =>
    expect(isPermanentMailError(error)).toBe(permanent),
  );
});
