/**
 * One sentence saying why PostgreSQL could not be used and what to do, for start-up and the
 * command-line tools (the driver's own message, "connect ECONNREFUSED", names neither the
 * database nor the setting to change).
 */
export function describeDatabaseProblem(error: unknown, url: string): string {
  const { host, port, database } = databaseLocation(url);
  const where = `database "${database}" at ${host}:${port}`;
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  const reason = message || String(error);
  switch (code) {
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
      return (
        `PostgreSQL at ${host}:${port} is not reachable (${reason}): start it, or set ` +
        'DATABASE_URL (environment or .env) to a running server; `npm start` starts one for you.'
      );
    case '3D000':
      return (
        `${where} does not exist: create it (createdb ${database}) or set DATABASE_URL to an ` +
        'existing database; `npm start` creates it on the PostgreSQL it starts.'
      );
    case '28P01':
    case '28000':
      return `${where} refused the login (${reason}): check the user and password in DATABASE_URL.`;
    default:
      return /timeout/i.test(reason)
        ? `PostgreSQL at ${host}:${port} did not answer in time (${reason}): is it running? Check DATABASE_URL.`
        : `${where}: ${reason}`;
  }
}

function databaseLocation(url: string): { host: string; port: string; database: string } {
  try {
    const parsed = new URL(url);
    return {
      host: parsed.hostname || 'localhost',
      port: parsed.port || '5432',
      database: decodeURIComponent(parsed.pathname.replace(/^\//, '')) || 'postgres',
    };
  } catch {
    return { host: 'unknown host', port: '?', database: 'unknown' };
  }
}
