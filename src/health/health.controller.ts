import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { sql } from 'kysely';
import { Database } from '../database';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Public } from '../http/route-group.decorator';
import { withTimeout } from '../metrics/with-timeout';
import { RedisConnections } from '../redis/redis-connections';

const DEPENDENCY_TIMEOUT_MS = 1_500;

export class LiveView {
  @ApiProperty({ enum: ['ok'] }) status!: 'ok';
}

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly redis: RedisConnections,
    private readonly db: Database,
  ) {}

  /** The process is up and its event loop answers. */
  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process and its event loop answer' })
  @ApiOkResponse({ type: LiveView })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Redis and PostgreSQL both answer in time; 503 otherwise, so a balancer stops routing here. */
  @Get('ready')
  @HealthCheck()
  @ApiOperation({
    summary: 'Readiness: Redis and PostgreSQL both answer within 1.5 s (503 otherwise)',
  })
  ready() {
    return this.health.check([
      () => this.probe('redis', () => this.redis.commands.ping()),
      () => this.probe('database', () => sql`select 1`.execute(this.db)),
    ]);
  }

  private async probe<K extends string>(key: K, check: () => Promise<unknown>) {
    const indicator = this.indicators.check(key);
    try {
      await withTimeout(check(), DEPENDENCY_TIMEOUT_MS);
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: (error as Error).message });
    }
  }
}
