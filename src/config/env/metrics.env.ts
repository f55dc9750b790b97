import { IsOptional } from 'class-validator';
import { EnvInt } from './decorators';

/** Prometheus metrics (GET /metrics on HTTP roles; METRICS_TOKEN lives in AppEnv). */
export class MetricsEnv {
  /**
   * Port of the tiny /metrics server of the worker role, which has no HTTP port of its own
   * (empty: none). The api and all roles serve /metrics on PORT instead.
   */
  @IsOptional()
  @EnvInt(1, 65535)
  METRICS_PORT?: number;
}
