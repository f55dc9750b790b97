import { BadRequestException } from '@nestjs/common';
import { decodeCursor, encodeCursor } from './job-cursor';

describe('job cursors', () => {
  it('round-trips an offset and starts at 0 without a cursor', () => {
    expect(decodeCursor(encodeCursor(1234))).toBe(1234);
    expect(decodeCursor(undefined)).toBe(0);
  });

  it.each([
    '',
    'abc',
    Buffer.from('o:-1').toString('base64url'),
    Buffer.from('x:5').toString('base64url'),
  ])('refuses a malformed cursor %p with 400', (cursor) => {
    expect(() => decodeCursor(cursor)).toThrow(BadRequestException);
  });
});
