import type Bull from 'bull';
import type Redis from 'ioredis';
import { QueueName } from '../../src/queue/queue-names';
import { waitUntil } from '../support/wait';
import { ChaosCluster } from './cluster';

export interface Figures {
  jobs: number;
  jobsCompleted: number;
  jobsFailed: number;
  payouts: number;
  paid: number;
  failed: number;
  charges: number;
  /** Provider calls answered with the first call's reference (a rerun job): harmless by design. */
  replays: number;
  /** Money moved twice, or moved for a payout that is not paid. */
  duplicates: number;
  /** Accepted jobs or payouts whose job is neither completed nor failed with a reason. */
  lost: number;
  /** Payouts still pending or processing after the settle. */
  stuck: number;
  ledgerMismatches: number;
  stalledJobs: number;
  ticks?: number;
  tickDuplicates?: number;
}

/** Redis lost data (a flush, a failover) at `at` (PostgreSQL's clock), during load round `round`. */
export interface RedisDataLoss {
  at: Date;
  round: number;
  /** Job IDs the API accepted until then: they may be gone with Redis, so they are not checked. */
  acceptedBefore: string[];
}

export interface Verdict {
  figures: Figures;
  /** What the checks excused and why (after a Redis data loss). */
  notes: string[];
  /** Each broken invariant, said in a sentence with examples. */
  violations: string[];
  /** Failed jobs (allowed: failed with a reason), counted by queue, job name and reason. */
  failures: string[];
}

const count = (rows: Array<{ n: number | string }>) => Number(rows[0]?.n ?? 0);

/** Waits until nothing is left to do: no payout pending or processing, every queue empty. */
export async function settle(cluster: ChaosCluster, timeoutMs: number): Promise<number> {
  const started = Date.now();
  const redis = cluster.redisClient();
  await waitUntil(
    async () => {
      const [{ n }] = await cluster.sql<{ n: number }>(
        `select count(*)::int as n from payouts where status in ('pending', 'processing')`,
      );
      if (n > 0) return false;
      for (const queue of cluster.allQueues()) {
        if ((await pendingWork(redis, cluster.prefix, queue)).length > 0) return false;
      }
      return true;
    },
    {
      timeoutMs,
      intervalMs: 250,
      message: 'the cluster to settle (no payout pending, queues empty)',
    },
  ).catch(() => undefined); // the checks below say what is stuck
  return Date.now() - started;
}

/**
 * Jobs still to run in a queue: waiting, active and delayed, except the ticks of repeatable jobs
 * (the scheduler always keeps the next one delayed: future work, not backlog; a one-second
 * schedule has one moving through wait/active nearly always). Read in one MULTI so a tick
 * moving from delayed to wait meanwhile is seen in exactly one place (two separate reads once
 * counted it as backlog).
 */
async function pendingWork(redis: Redis, prefix: string, queue: Bull.Queue): Promise<string[]> {
  const base = `${prefix}:${queue.name}`;
  const replies =
    (await redis
      .multi()
      .lrange(`${base}:wait`, 0, -1)
      .lrange(`${base}:paused`, 0, -1)
      .lrange(`${base}:active`, 0, -1)
      .zrange(`${base}:delayed`, 0, -1)
      .exec()) ?? [];
  return replies
    .flatMap(([error, ids]) => {
      if (error) throw error;
      return ids as string[];
    })
    .filter((id) => !id.startsWith('tick:'));
}

/** The invariants of the issue, checked against PostgreSQL and Redis after the settle. */
export async function checkInvariants(
  cluster: ChaosCluster,
  acceptedJobs: Iterable<string>,
  redisDataLoss?: RedisDataLoss,
): Promise<Verdict> {
  const violations: string[] = [];
  const notes: string[] = [];
  const sql = cluster.sql.bind(cluster);

  // 1. Every payout paid or failed (or cancelled): none stuck.
  const stuckRows = await sql<{ id: string; status: string }>(
    `select id, status from payouts where status in ('pending', 'processing') order by id limit 5`,
  );
  const stuck = count(
    await sql(`select count(*) as n from payouts where status in ('pending', 'processing')`),
  );
  if (stuck > 0) {
    violations.push(`${stuck} payouts stuck, e.g. ${JSON.stringify(stuckRows)}`);
    // Their story, to tell a lost job from a payout nobody finished.
    const events = await sql<{ payout_id: string; at: Date; to_status: string; detail: string }>(
      `select payout_id, created_at as at, to_status, detail from payout_events
       where payout_id = any($1::uuid[]) order by payout_id, id`,
      [stuckRows.map((row) => row.id)],
    );
    for (const event of events)
      violations.push(
        `  ${event.payout_id} ${new Date(event.at).toISOString()} ${event.to_status}: ${event.detail}`,
      );
  }
  const [totals] = await sql<{ payouts: number; paid: number; failed: number }>(
    `select count(*)::int as payouts, count(*) filter (where status = 'paid')::int as paid,
            count(*) filter (where status = 'failed')::int as failed from payouts`,
  );

  // 2. Exactly one provider charge per paid payout; no charge for anything else.
  const paidWithoutCharge = await sql<{ id: string }>(
    `select p.id from payouts p left join simulated_provider_charges c on c.idempotency_key = p.id::text
     where p.status = 'paid' and (c.reference is null or c.reference is distinct from p.provider_reference) limit 5`,
  );
  if (paidWithoutCharge.length > 0) {
    violations.push(
      `paid payouts without their one charge: ${paidWithoutCharge.map((r) => r.id).join(', ')}`,
    );
  }
  const chargedNotPaid = await sql<{ key: string; status: string | null }>(
    `select c.idempotency_key as key, p.status from simulated_provider_charges c
     left join payouts p on p.id::text = c.idempotency_key
     where c.reference is not null and p.status is distinct from 'paid'`,
  );
  const overcharged = await sql<{ payee_id: number; charged: number; paid: number }>(
    `select coalesce(c.payee_id, p.payee_id) as payee_id, coalesce(c.charged, 0) as charged, coalesce(p.paid, 0) as paid
     from (select payee_id, sum(amount_minor) as charged from simulated_provider_charges where reference is not null group by payee_id) c
     full join (select payee_id, sum(amount_minor) as paid from payouts where status = 'paid' group by payee_id) p
       on p.payee_id = c.payee_id
     where coalesce(c.charged, 0) <> coalesce(p.paid, 0)`,
  );
  const duplicates = chargedNotPaid.length + overcharged.length;
  if (chargedNotPaid.length > 0) {
    violations.push(
      `money moved for payouts that are not paid: ${JSON.stringify(chargedNotPaid.slice(0, 5))}`,
    );
  }
  if (overcharged.length > 0) {
    violations.push(
      `payees charged other than their paid payouts: ${JSON.stringify(overcharged.slice(0, 5))}`,
    );
  }
  const [chargeTotals] = await sql<{ charges: number; replays: number }>(
    `select count(*) filter (where reference is not null)::int as charges,
            coalesce(sum(greatest(charge_count - 1, 0)), 0)::int as replays from simulated_provider_charges`,
  );

  // 3. Balances equal to the ledger: each payout debited once, reversed only when it did not pay,
  //    no balance below zero, and earnings = balance + what was paid.
  const badEntries = await sql<{
    id: string;
    status: string;
    debit: number;
    reversal: number;
    amount: number;
  }>(
    `select p.id, p.status, p.amount_minor as amount,
            coalesce(sum(l.amount_minor) filter (where l.kind = 'payout'), 0) as debit,
            coalesce(sum(l.amount_minor) filter (where l.kind = 'reversal'), 0) as reversal
     from payouts p left join ledger_entries l on l.payout_id = p.id
     group by p.id
     having coalesce(sum(l.amount_minor) filter (where l.kind = 'payout'), 0) <> -p.amount_minor
        or coalesce(sum(l.amount_minor) filter (where l.kind = 'reversal'), 0)
           <> case when p.status in ('failed', 'cancelled') then p.amount_minor else 0 end`,
  );
  const badBalances = await sql<{
    payee_id: number;
    balance: number;
    earned: number;
    paid: number;
  }>(
    `select e.payee_id, e.balance, e.earned, coalesce(p.paid, 0) as paid
     from (select payee_id, sum(amount_minor) as balance,
                  sum(amount_minor) filter (where kind = 'earning') as earned
           from ledger_entries group by payee_id) e
     left join (select payee_id, sum(amount_minor) as paid from payouts where status = 'paid' group by payee_id) p
       on p.payee_id = e.payee_id
     where e.balance < 0 or e.balance <> e.earned - coalesce(p.paid, 0)`,
  );
  const ledgerMismatches = badEntries.length + badBalances.length;
  if (badEntries.length > 0)
    violations.push(
      `payouts whose ledger entries disagree: ${JSON.stringify(badEntries.slice(0, 5))}`,
    );
  if (badBalances.length > 0)
    violations.push(
      `balances that disagree with the ledger: ${JSON.stringify(badBalances.slice(0, 5))}`,
    );

  // 4. No job lost: every accepted job and every payout's job completed, or failed with a reason.
  const redis = cluster.redisClient();
  const jobs = { completed: 0, failed: 0, stalled: 0 };
  const finished = new Map<string, Set<string>>();
  const failures = new Map<string, number>();
  const queueProblems: string[] = [];
  for (const queue of cluster.allQueues()) {
    const base = `${cluster.prefix}:${queue.name}`;
    const completed = await redis.zrange(`${base}:completed`, 0, -1);
    const failed = await redis.zrange(`${base}:failed`, 0, -1);
    jobs.completed += completed.length;
    jobs.failed += failed.length;
    finished.set(queue.name, new Set([...completed, ...failed]));
    // Each failed job's name and reason, in one round trip.
    const pipeline = redis.pipeline();
    failed.forEach((id) => pipeline.hmget(`${base}:${id}`, 'name', 'failedReason'));
    const details = ((await pipeline.exec()) ?? []).map(
      ([, value]) => (value ?? []) as Array<string | null>,
    );
    const reasons = details.map(([, reason]) => String(reason ?? ''));
    details.forEach(([name], i) => {
      const key = `${queue.name} ${String(name)}: ${reasons[i].slice(0, 160)}`;
      failures.set(key, (failures.get(key) ?? 0) + 1);
    });
    const unexplained = failed.filter((_, i) => !reasons[i].replace(/"/g, '').trim());
    if (unexplained.length > 0)
      queueProblems.push(
        `${queue.name}: failed without a reason: ${unexplained.slice(0, 5).join(', ')}`,
      );
    const stalledPipeline = redis.pipeline();
    completed
      .concat(failed)
      .forEach((id) => stalledPipeline.hget(`${base}:${id}`, 'stalledCounter'));
    jobs.stalled += ((await stalledPipeline.exec()) ?? []).filter(
      ([, v]) => Number(v ?? 0) > 0,
    ).length;
    const pending = await pendingWork(redis, cluster.prefix, queue);
    if (pending.length > 0)
      queueProblems.push(
        `${queue.name}: not drained ${JSON.stringify(await queue.getJobCounts())}, e.g. jobs ${pending.slice(0, 5).join(', ')}`,
      );
  }
  violations.push(...queueProblems);
  const payoutJobs = finished.get(QueueName.Payouts) ?? new Set<string>();
  const missingAccepted = [...acceptedJobs].filter((id) => !payoutJobs.has(id));
  // After a Redis data loss, a payout created before it may have finished with its job record
  // gone: PostgreSQL (it is paid or failed) is the judge then, not Redis.
  const payoutRows = await sql<{ id: string; excusable: boolean }>(
    `select id, (created_at < $1 and status in ('paid', 'failed', 'cancelled')) as excusable from payouts`,
    [redisDataLoss?.at ?? new Date(0)],
  );
  const payoutIds = payoutRows.map((r) => r.id);
  const excusable = new Set(payoutRows.filter((r) => r.excusable).map((r) => r.id));
  const unfinished = payoutIds.filter((id) => !payoutJobs.has(id));
  const missingPayoutJobs = unfinished.filter((id) => !excusable.has(id));
  if (redisDataLoss) {
    const goneBefore = redisDataLoss.acceptedBefore.filter((id) => !payoutJobs.has(id));
    notes.push(
      `Redis lost data: of ${redisDataLoss.acceptedBefore.length} jobs accepted before, ` +
        `${goneBefore.length} have no finished record (not checked); ` +
        `${unfinished.length - missingPayoutJobs.length} payouts created before finished in PostgreSQL without one`,
    );
  }
  const lost = missingAccepted.length + missingPayoutJobs.length;
  if (missingAccepted.length > 0)
    violations.push(`accepted jobs not finished: ${missingAccepted.slice(0, 5).join(', ')}`);
  if (missingPayoutJobs.length > 0)
    violations.push(
      `payouts whose job is not finished: ${missingPayoutJobs.slice(0, 5).join(', ')}`,
    );
  const base = `${cluster.prefix}:${QueueName.Payouts}`;
  for (const id of [...new Set([...missingAccepted, ...missingPayoutJobs])].slice(0, 5))
    violations.push(`  job ${id}: ${JSON.stringify(await whereIsJob(redis, base, id))}`);

  // 5. Each scheduled tick run once (where the scheduler records its runs).
  const ticks = await scheduleTicks(cluster);
  if (ticks && ticks.duplicates > 0)
    violations.push(`${ticks.duplicates} scheduled ticks ran more than once`);

  return {
    figures: {
      jobs: jobs.completed + jobs.failed,
      jobsCompleted: jobs.completed,
      jobsFailed: jobs.failed,
      payouts: totals.payouts,
      paid: totals.paid,
      failed: totals.failed,
      charges: chargeTotals.charges,
      replays: chargeTotals.replays,
      duplicates,
      lost,
      stuck,
      ledgerMismatches,
      stalledJobs: jobs.stalled,
      ticks: ticks?.total,
      tickDuplicates: ticks?.duplicates,
    },
    violations,
    notes,
    failures: [...failures].map(([what, n]) => `${n} x ${what}`),
  };
}

/** Where a job is in Redis (which lists and sets hold it, its lock, its counters): to explain a loss. */
async function whereIsJob(
  redis: Redis,
  base: string,
  id: string,
): Promise<Record<string, unknown>> {
  const [wait, active, paused, delayed, completed, failed, stalled, lock, hash] = await Promise.all(
    [
      redis.lpos(`${base}:wait`, id),
      redis.lpos(`${base}:active`, id),
      redis.lpos(`${base}:paused`, id),
      redis.zscore(`${base}:delayed`, id),
      redis.zscore(`${base}:completed`, id),
      redis.zscore(`${base}:failed`, id),
      redis.sismember(`${base}:stalled`, id),
      redis.get(`${base}:${id}:lock`),
      redis.hgetall(`${base}:${id}`),
    ],
  );
  const { data: _data, opts: _opts, stacktrace: _stack, ...fields } = hash;
  return {
    in: { wait, active, paused, delayed, completed, failed, stalled },
    lock,
    exists: Object.keys(hash).length > 0,
    ...fields,
  };
}

/** Ticks recorded in schedule_runs (the distributed scheduler), or undefined without the table. */
export async function scheduleTicks(
  cluster: ChaosCluster,
): Promise<
  { total: number; duplicates: number; bySchedule: Record<string, string[]> } | undefined
> {
  const [exists] = await cluster.sql<{ t: string | null }>(
    `select to_regclass('schedule_runs')::text as t`,
  );
  if (!exists.t) return undefined;
  // UNIQUE (schedule, tick_at): a second attempt at a tick is refused and counted in `duplicates`.
  const rows = await cluster.sql<{ schedule: string; tick_at: Date; duplicates: number }>(
    `select schedule, tick_at, duplicates from schedule_runs order by schedule, tick_at`,
  );
  const bySchedule: Record<string, string[]> = {};
  for (const row of rows)
    (bySchedule[row.schedule] ??= []).push(new Date(row.tick_at).toISOString());
  return {
    total: rows.length,
    duplicates: rows.filter((row) => row.duplicates > 0).length,
    bySchedule,
  };
}
