import { metricsAuthorized } from './metrics-token';

describe('metricsAuthorized', () => {
  it('is open when no METRICS_TOKEN is configured', () => {
    expect(metricsAuthorized(undefined, undefined)).toBe(true);
  });

  it('needs the exact bearer token when one is configured', () => {
    expect(metricsAuthorized('s3cret', 'Bearer s3cret')).toBe(true);
    expect(metricsAuthorized('s3cret', 'bearer   s3cret')).toBe(true);
    expect(metricsAuthorized('s3cret', undefined)).toBe(false);
    expect(metricsAuthorized('s3cret', 'Bearer s3cre')).toBe(false);
    expect(metricsAuthorized('s3cret', 'Basic s3cret')).toBe(false);
    expect(metricsAuthorized('s3cret', ['Bearer s3cret'])).toBe(false);
  });
});
