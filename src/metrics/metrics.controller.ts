import { Controller, Get, Headers, Res, UnauthorizedException } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { AppConfig } from '../config';
import { Public } from '../http/route-group.decorator';
import { metricsAuthorized } from './metrics-token';
import { ErrorView } from '../queues-api/dto/queue.views';
import { MetricsRegistry } from './metrics.registry';

/** Public for the session guard (Prometheus has no session); the bearer token is checked here. */
@ApiTags('metrics')
@Public()
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: MetricsRegistry,
    private readonly config: AppConfig,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Prometheus metrics',
    description:
      'Queue gauges (read from Redis), job counters and histograms of this process, HTTP durations ' +
      'and process metrics. Needs `Authorization: Bearer <METRICS_TOKEN>` when METRICS_TOKEN is set.',
  })
  @ApiBearerAuth('metricsToken')
  @ApiOkResponse({
    description: 'Prometheus text format',
    content: { 'text/plain': { schema: { type: 'string' } } },
  })
  @ApiUnauthorizedResponse({
    description: 'METRICS_TOKEN is set and the bearer token is missing or wrong',
    type: ErrorView,
  })
  async scrape(
    @Headers('authorization') authorization: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<string> {
    if (!metricsAuthorized(this.config.metricsToken, authorization)) {
      throw new UnauthorizedException('Send Authorization: Bearer <METRICS_TOKEN>');
    }
    const text = await this.metrics.render();
    res.type(this.metrics.contentType);
    return text;
  }
}
