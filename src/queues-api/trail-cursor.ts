import { BadRequestException } from '@nestjs/common';
import type { IndexPosition } from '../queue/correlation-index';

/**
 * Opaque cursors of a correlation trail: the enqueue time (index score) the next page starts
 * at and how many entries of that very millisecond were already read. Unlike an offset into
 * the whole trail, reading page 1,000 costs no more than page 1.
 */
export function encodeTrailCursor(position: IndexPosition): string {
  return Buffer.from(`t:${position.score}:${position.skip}`).toString('base64url');
}

export function decodeTrailCursor(cursor: string | undefined): IndexPosition {
  if (cursor === undefined) return { score: 0, skip: 0 };
  const match = /^t:(\d{1,16}):(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) {
    throw new BadRequestException(
      'cursor is malformed: pass the nextCursor of the previous page unchanged',
    );
  }
  return { score: Number(match[1]), skip: Number(match[2]) };
}
