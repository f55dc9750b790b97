import type { Request } from 'express';
import { hasValidCsrfToken, newCsrfToken } from './csrf';

function requestWith(token: string | undefined, header: unknown): Request {
  return {
    session: token === undefined ? undefined : { csrfToken: token },
    headers: header === undefined ? {} : { 'x-csrf-token': header },
  } as unknown as Request;
}

describe('hasValidCsrfToken', () => {
  const token = newCsrfToken();

  it('accepts the session token', () => {
    expect(hasValidCsrfToken(requestWith(token, token))).toBe(true);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['another token', newCsrfToken()],
    ['one character off', `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`],
    ['non-ASCII of the same length', 'é'.repeat(token.length)],
    ['Latin-1 bytes as Node passes them', '\u00ff\u00fe'.repeat(token.length / 2)],
    ['control characters', '\u0000\u0001\u007f'.repeat(11)],
    ['an emoji', '🙂'.repeat(16)],
    ['very long', 'a'.repeat(100_000)],
    ['an array (repeated header)', [token, token]],
  ])('refuses %s, without throwing', (_label, header) => {
    expect(hasValidCsrfToken(requestWith(token, header))).toBe(false);
  });

  it('refuses everything when the session has no token', () => {
    expect(hasValidCsrfToken(requestWith(undefined, token))).toBe(false);
    expect(hasValidCsrfToken(requestWith('', ''))).toBe(false);
  });
});
