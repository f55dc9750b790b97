/** The user the authenticated benchmarks log in as (created by the servers at start). */
export const BENCH_USER = { email: 'bench@localhost', password: 'bench-password-0123' };
