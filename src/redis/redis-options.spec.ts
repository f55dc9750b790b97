import { redisOptions, describeRedis } from './redis-options';

describe('redisOptions', () => {
  it('takes one server, its credentials, db and TLS from REDIS_URL', () => {
    const options = redisOptions({
      url: 'rediss://app:p%40ss@cache.internal:6380/3',
      prefix: 'bull',
    });
    expect(options).toMatchObject({
      host: 'cache.internal',
      port: 6380,
      username: 'app',
      password: 'p@ss',
      db: 3,
      tls: {},
    });
    expect(options.sentinels).toBeUndefined();
  });

  it('with Sentinel, asks the sentinels for the primary and keeps the URL credentials, db and TLS', () => {
    const options = redisOptions(
      {
        url: 'rediss://:secret@ignored:6379/1',
        prefix: 'bull',
        sentinel: {
          sentinels: [{ host: '10.0.0.1', port: 26379 }],
          name: 'payouts',
          password: 'sentinel-secret',
          tls: false,
        },
      },
      { maxRetriesPerRequest: null },
    );
    expect(options).toMatchObject({
      sentinels: [{ host: '10.0.0.1', port: 26379 }],
      name: 'payouts',
      sentinelPassword: 'sentinel-secret',
      password: 'secret',
      db: 1,
      tls: {},
      enableTLSForSentinelMode: true,
      maxRetriesPerRequest: null,
    });
    expect(options.host).toBeUndefined();
    expect(options.sentinelTLS).toBeUndefined();
  });

  it('describes where Redis is without credentials', () => {
    expect(describeRedis({ url: 'redis://u:pw@h:1', prefix: 'b' })).toBe('redis://***@h:1');
    expect(
      describeRedis({
        url: 'redis://u:pw@h:1',
        prefix: 'b',
        sentinel: { sentinels: [{ host: 'a', port: 2 }], name: 'm', tls: false },
      }),
    ).toBe('the primary "m" of sentinels a:2');
  });
});
