import { CallOutcome, Decision, decideAfterCall, decideAfterLookup } from './payout-decision';
import { LookupResult } from './provider/payment-provider';

const calls: Record<CallOutcome['kind'], CallOutcome> = {
  paid: { kind: 'paid', reference: 'tr_1' },
  declined: { kind: 'declined', reason: 'account closed' },
  transient: { kind: 'transient', reason: 'HTTP 429' },
  unknown: { kind: 'unknown', reason: 'timed out' },
};

describe('decideAfterCall: every row of the table', () => {
  // [call, money may have moved, last attempt, expected action]
  const table: Array<[CallOutcome['kind'], boolean, boolean, Decision['action']]> = [
    ['paid', false, false, 'pay'],
    ['paid', false, true, 'pay'],
    ['paid', true, false, 'pay'],
    ['paid', true, true, 'pay'],
    ['declined', false, false, 'fail'],
    ['declined', false, true, 'fail'],
    // Money may have moved: one refusal proves nothing about the earlier call.
    ['declined', true, false, 'lookup'],
    ['declined', true, true, 'lookup'],
    ['transient', false, false, 'retry'],
    ['transient', false, true, 'fail'],
    ['transient', true, false, 'retry'],
    // The "paid and refunded" case: a 429 on the last try after an unknown outcome.
    ['transient', true, true, 'lookup'],
    // Right after an unknown outcome the request may still be landing: no lookup, no failure.
    ['unknown', false, false, 'retry'],
    ['unknown', false, true, 'leave'],
    ['unknown', true, false, 'retry'],
    ['unknown', true, true, 'leave'],
  ];
  it.each(table)(
    '%s, money may have moved %s, last attempt %s -> %s',
    (kind, sticky, last, action) => {
      expect(
        decideAfterCall(calls[kind], { moneyMayHaveMoved: sticky, lastAttempt: last }).action,
      ).toBe(action);
    },
  );

  it('never fails or gives back a payout whose money may have moved, whatever the call said', () => {
    for (const call of Object.values(calls)) {
      for (const lastAttempt of [false, true]) {
        const decision = decideAfterCall(call, { moneyMayHaveMoved: true, lastAttempt });
        expect(decision.action).not.toBe('fail');
      }
    }
  });
});

describe('decideAfterLookup', () => {
  const lookups: Record<LookupResult['status'], LookupResult> = {
    paid: { status: 'paid', reference: 'tr_9' },
    declined: { status: 'declined', reason: 'account closed' },
    not_found: { status: 'not_found' },
    unknown: { status: 'unknown', reason: 'provider down' },
  };
  const table: Array<[LookupResult['status'], boolean, Decision['action']]> = [
    ['paid', false, 'pay'],
    ['paid', true, 'pay'],
    ['declined', false, 'fail'],
    ['declined', true, 'fail'],
    // An earlier call may still land while its lease could be live: not yet proof.
    ['not_found', false, 'leave'],
    ['not_found', true, 'fail'],
    ['unknown', false, 'leave'],
    ['unknown', true, 'leave'],
  ];
  it.each(table)('%s, unknown for longer than a lease %s -> %s', (status, pastLease, action) => {
    const decision = decideAfterLookup(lookups[status], {
      unknownForMs: pastLease ? 60_001 : 59_999,
      leaseMs: 60_000,
      reason: 'HTTP 429',
    });
    expect(decision.action).toBe(action);
  });

  it('pays with the reference the provider holds', () => {
    expect(decideAfterLookup(lookups.paid, { unknownForMs: 0, leaseMs: 1, reason: 'x' })).toEqual({
      action: 'pay',
      reference: 'tr_9',
    });
  });
});
