import { createBullBoard } from '@bull-board/api';
import { BullAdapter } from '@bull-board/api/bullAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bull';
import type { RequestHandler } from 'express';

/** The full board for admins and the read-only board for every logged-in user. */
export const ADMIN_BOARD_PATH = '/admin/queues';
export const READ_ONLY_BOARD_PATH = '/monitor/queues';

/**
 * One Bull Board over the given queues. bull-board's read-only mode belongs to each queue
 * adapter, not to a user, so read-only access is a second board with read-only adapters
 * (its API refuses mutations too), mounted at its own path.
 */
export function createBoard(basePath: string, queues: Queue[], readOnly: boolean): RequestHandler {
  const serverAdapter = new ExpressAdapter().setBasePath(basePath);
  createBullBoard({
    queues: queues.map(
      (queue) => new BullAdapter(queue, { readOnlyMode: readOnly, allowRetries: !readOnly }),
    ),
    serverAdapter,
    options: { uiConfig: { boardTitle: readOnly ? 'Queues (read-only)' : 'Queues' } },
  });
  return serverAdapter.getRouter() as RequestHandler;
}
