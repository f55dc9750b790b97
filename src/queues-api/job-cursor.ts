import { BadRequestException } from '@nestjs/common';

/**
 * Opaque page cursors: the position in the state's list where the next page starts. Positions
 * shift when jobs enter or leave the state between pages (a page may then repeat or skip a
 * job), as in any offset pagination over a live queue; the cursor is opaque so this can change.
 */
export function encodeCursor(offset: number): string {
  return Buffer.from(`o:${offset}`).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  const match = /^o:(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) {
    throw new BadRequestException(
      'cursor is malformed: pass the nextCursor of the previous page unchanged',
    );
  }
  return Number(match[1]);
}
