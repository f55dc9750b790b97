import { setTimeout as sleep } from 'node:timers/promises';
import { QUEUE_NAMES } from '../../../src/queue/queue-names';
import { waitUntil } from '../../support/wait';
import { ChaosCluster, ADMIN } from '../cluster';
import { ScenarioContext } from '../scenario';

/*
 * What the two scenarios in which Redis loses data share (redis-flush, redis-failover): what was
 * queued just before, how long the API was without service, and what the recovery found again.
 */

/** Jobs still to run (waiting, active, delayed) per queue, schedule ticks aside. */
export async function queuedJobs(cluster: ChaosCluster): Promise<Map<string, string[]>> {
  const redis = cluster.redisClient();
  const multi = redis.multi();
  for (const name of QUEUE_NAMES) {
    const base = `${cluster.prefix}:${name}`;
    multi.lrange(`${base}:wait`, 0, -1).lrange(`${base}:active`, 0, -1);
    multi.zrange(`${base}:delayed`, 0, -1);
  }
  const replies = (await multi.exec()) ?? [];
  redis.disconnect();
  const queued = new Map<string, string[]>();
  QUEUE_NAMES.forEach((name, i) => {
    const ids = replies
      .slice(3 * i, 3 * i + 3)
      .flatMap(([error, ids]) => {
        if (error) throw error;
        return ids as string[];
      })
      .filter((id) => !id.startsWith('tick:'));
    queued.set(name, [...new Set(ids)]);
  });
  return queued;
}

/** Of `jobs`, those whose record is gone from the (current) Redis. */
export async function missingJobs(
  cluster: ChaosCluster,
  jobs: Map<string, string[]>,
): Promise<Map<string, string[]>> {
  const redis = cluster.redisClient();
  const missing = new Map<string, string[]>();
  for (const [queue, ids] of jobs) {
    const pipeline = redis.pipeline();
    ids.forEach((id) => pipeline.exists(`${cluster.prefix}:${queue}:${id}`));
    const replies = (await pipeline.exec()) ?? [];
    missing.set(
      queue,
      ids.filter((_, i) => Number(replies[i]?.[1] ?? 0) === 0),
    );
  }
  redis.disconnect();
  return missing;
}

export const countByQueue = (jobs: Map<string, string[]>): string =>
  [...jobs]
    .filter(([, ids]) => ids.length > 0)
    .map(([queue, ids]) => `${queue}:${ids.length}`)
    .join(',') || 'none';

export const total = (jobs: Map<string, string[]>): number =>
  [...jobs.values()].reduce((sum, ids) => sum + ids.length, 0);

/** Payouts pending or processing whose job record is not in Redis (now). */
export async function payoutsWithoutJob(cluster: ChaosCluster): Promise<string[]> {
  const rows = await cluster.sql<{ id: string }>(
    `select id from payouts where status in ('pending', 'processing')`,
  );
  const missing = await missingJobs(cluster, new Map([['payouts', rows.map((r) => r.id)]]));
  return missing.get('payouts') ?? [];
}

export interface Outage {
  /** From the fault until both APIs answered an authenticated request. */
  downMs: number;
  /** The probes' answers meanwhile, by status. */
  answers: Record<string, number>;
}

/**
 * Polls both APIs (GET /auth/me with the admin session, and /health/ready) from `since` until
 * `serving()` says both serve again; tallies every answer meanwhile.
 */
export async function probeUntilServing(
  ctx: ScenarioContext,
  since: number,
  serving: () => Promise<boolean>,
  timeoutMs = 120_000,
): Promise<Outage> {
  const answers: Record<string, number> = {};
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let allServed = true;
    for (const api of ctx.cluster.apis) {
      for (const path of ['/auth/me', '/health/ready']) {
        const status = await api.client
          .request('GET', path, { session: ctx.cluster.session, timeoutMs: 5_000 })
          .then((res) => String(res.status))
          .catch(() => 'no-answer');
        if (path === '/auth/me' && status !== '200') allServed = false;
        answers[status] = (answers[status] ?? 0) + 1;
      }
    }
    if (allServed && (await serving())) return { downMs: Date.now() - since, answers };
    if (Date.now() > deadline)
      throw new Error(`the APIs did not serve again within ${timeoutMs} ms: ${tally(answers)}`);
    await sleep(100);
  }
}

export const tally = (answers: Record<string, number>): string =>
  Object.entries(answers)
    .sort()
    .map(([status, n]) => `${status}:${n}`)
    .join(',');

/** The loss checks' "Redis data loss suspected ...: re-enqueued ..." lines logged since `since`. */
export function sweepLines(cluster: ChaosCluster, since: number): string[] {
  return cluster.history.flatMap((p) =>
    p.problems
      .filter(
        (line) =>
          Number(line.time ?? 0) >= since &&
          /Redis data loss suspected .*re-enqueued/.test(String(line.msg)),
      )
      .map((line) => `${p.name}: ${String(line.msg).slice(0, 300)}`),
  );
}

/** Waits for a worker's loss check (every 10 s) to notice the loss and finish its sweep. */
export async function waitForSweep(ctx: ScenarioContext, since: number): Promise<number> {
  await waitUntil(() => sweepLines(ctx.cluster, since).length > 0, {
    timeoutMs: 60_000,
    intervalMs: 100,
    message: 'a worker to notice that Redis lost data',
  }).catch(() => undefined); // checkRecovery says so
  return Date.now() - since;
}

/** Logs in again on api1 (sessions live in Redis) until it works; the load uses the new session. */
export async function loginAgain(ctx: ScenarioContext): Promise<void> {
  await waitUntil(
    async () => {
      try {
        ctx.cluster.session = await ctx.cluster.api(0).login(ADMIN.email, ADMIN.password);
        return true;
      } catch {
        return false;
      }
    },
    { timeoutMs: 60_000, intervalMs: 200, message: 'the admin to log in again' },
  );
}

/** No process exited or was replaced since `pids` were taken (APIs first, then workers). */
export function processPids(cluster: ChaosCluster): number[] {
  return [...cluster.apis.map((a) => a.process), ...cluster.workers].map((p) => p.pid);
}

export function expectSameProcesses(ctx: ScenarioContext, pids: number[], when: string): void {
  const now = [...ctx.cluster.apis.map((a) => a.process), ...ctx.cluster.workers];
  ctx.expect(
    now.every((p, i) => p.running && p.pid === pids[i]),
    `a process exited or was replaced ${when}`,
  );
}

/**
 * After the settle: what the recovery found again of the jobs lost with Redis, and the extra
 * invariant of these scenarios: every paid or failed payout has its notification delivered.
 */
export async function checkRecovery(
  ctx: ScenarioContext,
  lost: Map<string, string[]>,
  lossAt: Date,
  faultAt: number,
): Promise<{
  reenqueued: number;
  notified: number;
  notificationsLost: number;
  /** What the workers' loss checks logged they re-enqueued, summed. */
  swept: { checks: number; payouts: number; notifications: number; exports: number };
}> {
  const { cluster } = ctx;
  const events = await cluster.sql<{ detail: string; n: number }>(
    `select detail, count(*)::int as n from payout_events
     where created_at >= $1 and detail like 're-enqueued%' group by detail order by 2 desc`,
    [lossAt],
  );
  const reenqueued = events.reduce((sum, e) => sum + e.n, 0);
  ctx.note(
    `re-enqueued payouts after the loss: ${reenqueued}` +
      (events.length ? ` (${events.map((e) => `${e.n} x "${e.detail}"`).join('; ')})` : ''),
  );

  // Notification jobs are `notify-<payout id>-<outcome>`; the row's dedupe key says the same.
  const notifyJobs = (lost.get('notifications') ?? []).filter((id) => id.startsWith('notify-'));
  const keys = notifyJobs.map((id) => {
    const [, payoutId, outcome] = /^notify-(.+)-(paid|failed)$/.exec(id) ?? [];
    return `payout:${payoutId}:${outcome}`;
  });
  const [{ n: notified }] = await cluster.sql<{ n: number }>(
    `select count(*)::int as n from notifications
     where dedupe_key = any($1::text[]) and status in ('sent', 'logged')`,
    [keys],
  );

  const undelivered = await cluster.sql<{ id: string; status: string; notification: string }>(
    `select p.id, p.status, coalesce(n.status::text, 'no row') as notification
     from payouts p
     left join notifications n on n.dedupe_key = 'payout:' || p.id || ':' || p.status
     where p.status in ('paid', 'failed') and (n.status is null or n.status not in ('sent', 'logged'))`,
  );
  ctx.expect(
    undelivered.length === 0,
    `${undelivered.length} paid or failed payouts without a delivered notification, e.g. ${JSON.stringify(undelivered.slice(0, 5))}`,
  );
  // Their story, to tell a job never enqueued from one lost or skipped.
  const redis = cluster.redisClient();
  for (const row of undelivered.slice(0, 3)) {
    const events = await cluster.sql<{ at: Date; to_status: string; detail: string }>(
      `select created_at as at, to_status, detail from payout_events where payout_id = $1 order by id`,
      [row.id],
    );
    for (const e of events)
      ctx.violations.push(
        `  ${row.id} ${new Date(e.at).toISOString()} ${e.to_status}: ${e.detail}`,
      );
    const job = await redis.hgetall(
      `${cluster.prefix}:notifications:notify-${row.id}-${row.status}`,
    );
    const { data: _data, opts: _opts, stacktrace: _stack, ...fields } = job;
    ctx.violations.push(`  its notification job: ${JSON.stringify(fields)}`);
  }
  redis.disconnect();
  ctx.note(`loss at ${lossAt.toISOString()}`);

  // The loss check's own account (a worker's warn lines, kept in full), since the fault only:
  // every cluster's first start also sweeps once (no marker yet).
  const suspected = sweepLines(cluster, faultAt);
  const swept = { checks: suspected.length, payouts: 0, notifications: 0, exports: 0 };
  for (const line of suspected) {
    const [, payouts, notifications, exports] =
      /re-enqueued (\d+) payouts, (\d+) notifications, (\d+) exports/.exec(line) ?? [];
    swept.payouts += Number(payouts ?? 0);
    swept.notifications += Number(notifications ?? 0);
    swept.exports += Number(exports ?? 0);
  }
  ctx.note(
    `loss checks that swept after the fault: ${suspected.length}` +
      (suspected.length ? ` (${suspected.slice(0, 3).join(' | ')})` : ''),
  );
  ctx.expect(suspected.length > 0, 'no worker noticed that Redis lost data');
  return { reenqueued, notified, notificationsLost: notifyJobs.length, swept };
}

/**
 * A burst of payouts (earnings for many payees, then one cycle), and a wait until some of their
 * jobs wait in the queue, and some notifications of the paid ones: a fault then catches jobs that
 * no worker holds in memory, that only Redis knew of. Returns how many payout jobs were waiting.
 */
export async function burstUntilQueued(ctx: ScenarioContext): Promise<number> {
  const { cluster, size } = ctx;
  const payees = Math.min(size.payees, 10 * size.perRound);
  await cluster.sql(
    `insert into ledger_entries (payee_id, kind, amount_minor, currency)
     select id, 'earning', 1000 + (random() * 9000)::int, 'EUR'
     from (select id from payees order by random() limit $1) as chosen`,
    [payees],
  );
  await ctx.load.call(0, 'POST', '/payouts/cycle');
  const redis = cluster.redisClient();
  let waiting = 0;
  let queuedSince: number | undefined;
  await waitUntil(
    async () => {
      const [[, payouts], [, notifications]] = ((await redis
        .multi()
        .llen(`${cluster.prefix}:payouts:wait`)
        .llen(`${cluster.prefix}:notifications:wait`)
        .exec()) ?? [[], []]) as Array<[Error | null, number]>;
      waiting = payouts;
      if (payouts >= Math.min(10, payees / 4)) queuedSince ??= Date.now();
      if (queuedSince === undefined) return false;
      // Notifications of the first paid ones waiting too, if that happens within a second.
      return payouts > 0 && (notifications > 0 || Date.now() > queuedSince + 1_000);
    },
    { timeoutMs: 20_000, intervalMs: 10, message: 'payout jobs to wait in the queue' },
  ).catch(() => undefined);
  redis.disconnect();
  return waiting;
}

/** The summary line's account of what was lost and found again (the `redis={...}` block's tail). */
export function lossSummary(run: {
  lost: Map<string, string[]>;
  orphans: number;
  sweptMs: number;
  recovery: Awaited<ReturnType<typeof checkRecovery>>;
}): string {
  const { recovery } = run;
  return (
    `lost=${countByQueue(run.lost)} open-without-job=${run.orphans} ` +
    `swept-after=${(run.sweptMs / 1000).toFixed(1)}s recovered={payouts:${recovery.swept.payouts},notifications:${recovery.swept.notifications}} ` +
    `payout-events=${recovery.reenqueued} lost-notifications-delivered=${recovery.notified}/${recovery.notificationsLost}`
  );
}
