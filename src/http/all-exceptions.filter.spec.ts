import { isDependencyUnavailable } from './all-exceptions.filter';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('isDependencyUnavailable', () => {
  it.each([
    ['ioredis with Redis down', new Error('Connection is closed.')],
    [
      'ioredis offline queue off',
      new Error("Stream isn't writeable and enableOfflineQueue options is false"),
    ],
    ['a refused TCP connection', withCode('connect ECONNREFUSED 127.0.0.1:6379', 'ECONNREFUSED')],
    ['pg: server closed the connection', new Error('Connection terminated unexpectedly')],
    [
      'pg: query on a client the server closed',
      new Error('Client was closed and is not queryable'),
    ],
    [
      'pg: query after a connection error',
      new Error('Client has encountered a connection error and is not queryable'),
    ],
    [
      'pg_terminate_backend',
      withCode('terminating connection due to administrator command', '57P01'),
    ],
    ['PostgreSQL starting up', withCode('the database system is starting up', '57P03')],
    ['SQLSTATE class 08', withCode('connection failure', '08006')],
    ['pool connect timeout', new Error('timeout exceeded when trying to connect')],
    [
      'wrapped in a cause',
      new Error('query failed', { cause: new Error('Connection terminated') }),
    ],
  ])('recognises %s', (_name, error) => {
    expect(isDependencyUnavailable(error)).toBe(true);
  });

  it.each([
    ['a programming error', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['a constraint violation', withCode('duplicate key value violates unique constraint', '23505')],
    ['a value that is not an Error', 'Connection is closed'],
  ])('does not treat %s as an outage', (_name, error) => {
    expect(isDependencyUnavailable(error)).toBe(false);
  });
});
