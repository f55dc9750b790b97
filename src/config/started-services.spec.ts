import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from './config-error';
import { withStartedServices } from './started-services';

describe('withStartedServices', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'started-services-'));
    file = join(dir, 'services.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const record = () =>
    writeFileSync(
      file,
      JSON.stringify({
        redis: { url: 'redis://127.0.0.1:40001', pid: 1 },
        postgres: { url: 'postgres://postgres@127.0.0.1:40002/payouts', port: 40002 },
      }),
    );

  it('keeps URLs the environment or .env set, without reading the file', () => {
    const env = { REDIS_URL: 'redis://r:1', DATABASE_URL: 'postgres://p/db' };
    expect(withStartedServices(env, join(dir, 'absent.json'))).toEqual(env);
  });

  it('fills unset URLs from the services npm start recorded', () => {
    record();
    expect(withStartedServices({ REDIS_URL: 'redis://mine:6379' }, file)).toEqual({
      REDIS_URL: 'redis://mine:6379',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:40002/payouts',
    });
  });

  it('refuses, naming npm start, when nothing is set and nothing was started', () => {
    const refuse = () => withStartedServices({}, file);
    expect(refuse).toThrow(ConfigError);
    expect(refuse).toThrow(
      /REDIS_URL: not set, and no Redis started by `npm start`.*run `npm start`/,
    );
    expect(refuse).toThrow(/DATABASE_URL: not set, and no PostgreSQL started by `npm start`/);
  });

  it('treats a damaged file as none', () => {
    writeFileSync(file, '{not json');
    expect(() => withStartedServices({ REDIS_URL: 'redis://r:1' }, file)).toThrow(
      /DATABASE_URL: not set/,
    );
  });
});
