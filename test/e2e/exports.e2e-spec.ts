import { ConflictException, ForbiddenException } from '@nestjs/common';
import { Readable } from 'node:stream';
import { CSV_COLUMNS } from '../../src/exports/export-writer.service';
import { ExportService } from '../../src/exports/export.service';
import { RequestUser } from '../../src/http/current-user.decorator';
import {
  bootApp,
  createPayees,
  finishedJob,
  QueueName,
  TestApp,
} from '../support/payouts-fixtures';
import { createTestDatabase, query, startTestRedis, TestRedis } from '../support/services';

jest.setTimeout(60_000);

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/*
 * CSV exports written by a worker into PostgreSQL (export_chunks) and streamed back by the
 * service any API instance uses. The HTTP layer (session, guard) is not in this branch yet:
 * access rules are tested on the service, which the controller calls as is.
 */
describe('Exports: CSV of payouts (real PostgreSQL + Redis)', () => {
  let redis: TestRedis;
  let db: string;
  let worker: TestApp;
  const users: Record<'owner' | 'other' | 'admin', RequestUser> = {} as never;

  beforeAll(async () => {
    redis = await startTestRedis();
    db = await createTestDatabase();
    worker = await bootApp('worker', redis.url, db);
    for (const [key, role] of [
      ['owner', 'operator'],
      ['other', 'viewer'],
      ['admin', 'admin'],
    ] as const) {
      const [row] = await query<{ id: number }>(
        db,
        `INSERT INTO users (email, password_hash, role) VALUES ($1, 'x', $2) RETURNING id`,
        [`${key}@example.test`, role],
      );
      users[key] = { id: Number(row.id), email: `${key}@example.test`, role };
    }
    const payees = await createPayees(db, [{ earnings: [] }, { earnings: [] }, { earnings: [] }]);
    // 10,000 payouts in January 2026 (the export's range), 500 in December 2025 (outside it).
    await query(
      db,
      `INSERT INTO payouts (payee_id, amount_minor, currency, status, idempotency_key, created_at,
                            provider_reference, finished_at)
       SELECT ($1::bigint[])[1 + n % 3], 100 + n, 'EUR',
              (ARRAY['paid', 'failed', 'pending', 'cancelled'])[1 + n % 4],
              'seed:' || n,
              CASE WHEN n <= 10000 THEN timestamptz '2026-01-01 00:00+00' + n * interval '4 minutes'
                   ELSE timestamptz '2025-12-01 00:00+00' + n * interval '1 minute' END,
              CASE WHEN n % 4 = 0 THEN 'sim_' || n END,
              CASE WHEN n % 4 = 0 THEN timestamptz '2026-02-15 00:00+00' END
       FROM generate_series(1, 10500) AS n`,
      [payees],
    );
  });
  afterAll(async () => {
    await worker?.close();
    await redis?.stop();
  });

  it('exports 10,000 payouts of a date range as CSV with the header, reporting progress, for its creator only', async () => {
    const progress: number[] = [];
    const queue = worker.queue(QueueName.Exports);
    queue.on('progress', (_job, value: number) => progress.push(value));
    const service = worker.get(ExportService);

    const { exportId, jobId } = await service.request(
      { from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z' },
      users.owner,
    );
    const job = await finishedJob(queue, jobId, 30_000);
    expect(await job.getState()).toBe('completed');
    expect(job.returnvalue).toMatchObject({ outcome: 'done', rowCount: 10_000 });
    expect(job.progress()).toBe(100);
    // Progress grew batch by batch (1,000 rows each) up to 100.
    expect(progress.length).toBeGreaterThanOrEqual(10);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
    expect(progress[progress.length - 1]).toBe(100);

    const view = await service.get(exportId, users.owner);
    expect(view).toMatchObject({ status: 'done', progress: 100, rowCount: 10_000 });
    expect(view.fileName).toMatch(/^payouts-\d{4}-\d{2}-\d{2}-[0-9a-f]{8}\.csv$/);

    const download = await service.download(exportId, users.owner);
    const csv = await readAll(download.stream);
    expect(Buffer.byteLength(csv)).toBe(download.byteSize);
    const lines = csv.trimEnd().split('\n');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    expect(lines).toHaveLength(10_001);
    const expected = await query<{ id: string }>(
      db,
      `SELECT id FROM payouts WHERE created_at >= '2026-01-01 00:00+00' AND created_at < '2026-02-01 00:00+00'
       ORDER BY created_at, id`,
    );
    expect(lines.slice(1).map((line) => line.split(',')[0])).toEqual(expected.map((r) => r.id));
    const paidRow = await query<{
      id: string;
      payee_email: string;
      amount_minor: number;
      provider_reference: string;
    }>(
      db,
      `SELECT p.id, e.email AS payee_email, p.amount_minor, p.provider_reference
       FROM payouts p JOIN payees e ON e.id = p.payee_id WHERE p.idempotency_key = 'seed:4'`,
    );
    const fields = (lines.find((line) => line.startsWith(paidRow[0].id)) ?? '').split(',');
    expect(fields).toEqual([
      paidRow[0].id,
      expect.stringMatching(/^\d+$/),
      paidRow[0].payee_email,
      '104',
      'EUR',
      'paid',
      'sim_4',
      '0',
      '',
      '2026-01-01T00:16:00.000Z',
      '2026-02-15T00:00:00.000Z',
    ]);

    // Another non-admin user may neither read nor download it; an admin may.
    await expect(service.download(exportId, users.other)).rejects.toThrow(ForbiddenException);
    await expect(service.get(exportId, users.other)).rejects.toThrow(ForbiddenException);
    const asAdmin = await service.download(exportId, users.admin);
    expect(await readAll(asAdmin.stream)).toBe(csv);
  });

  it('filters by status and payee, and refuses a download before the export is done', async () => {
    const service = worker.get(ExportService);
    const [{ payee_id: payeeId }] = await query<{ payee_id: number }>(
      db,
      "SELECT payee_id FROM payouts WHERE idempotency_key = 'seed:1'",
    );
    const { exportId, jobId } = await service.request(
      { status: 'failed', payeeId: Number(payeeId) },
      users.other,
    );
    await finishedJob(worker.queue(QueueName.Exports), jobId);
    const csv = await readAll((await service.download(exportId, users.other)).stream);
    const [{ count }] = await query<{ count: number }>(
      db,
      "SELECT count(*) FROM payouts WHERE status = 'failed' AND payee_id = $1",
      [payeeId],
    );
    const rows = csv.trimEnd().split('\n').slice(1);
    expect(rows).toHaveLength(Number(count));
    expect(rows.every((row) => row.split(',')[5] === 'failed')).toBe(true);

    // An API-only instance queues the export; nothing has written it yet.
    const api = await bootApp('api', redis.url, db);
    try {
      const pending = await api.get(ExportService).request({}, users.owner);
      await expect(api.get(ExportService).download(pending.exportId, users.owner)).rejects.toThrow(
        ConflictException,
      );
    } finally {
      await api.close();
    }
  });
});
