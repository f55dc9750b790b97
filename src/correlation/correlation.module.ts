import { Global, Module } from '@nestjs/common';
import { ClsService, ClsServiceManager } from 'nestjs-cls';
import { CorrelationContext } from './correlation.context';
import { CorrelationMiddleware } from './correlation.middleware';

/**
 * CLS for requests and jobs. The HTTP middleware is mounted by the request pipeline (only where
 * correlation is enabled); jobs and ticks open their context with CorrelationContext.run().
 *
 * Not ClsModule.forRoot(): it always registers a global guard and a global interceptor (no-ops
 * unless mounted), and a single global interceptor sends every request through Nest's rxjs
 * interceptor pipeline (two AsyncResource.bind per request): that cost the public route 40% of
 * its throughput (see docs/performance.md). The ClsService is nestjs-cls's one process-wide
 * instance either way (the one ClsServiceManager and the logger's mixin use).
 */
@Global()
@Module({
  providers: [
    { provide: ClsService, useValue: ClsServiceManager.getClsService() },
    CorrelationContext,
    CorrelationMiddleware,
  ],
  exports: [ClsService, CorrelationContext, CorrelationMiddleware],
})
export class CorrelationModule {}
