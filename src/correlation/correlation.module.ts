import { Global, Module } from '@nestjs/common';
import { ClsModule } from 'nestjs-cls';
import { CorrelationContext } from './correlation.context';
import { CorrelationMiddleware } from './correlation.middleware';

/**
 * CLS for requests and jobs. The HTTP middleware is mounted by the request pipeline (only where
 * correlation is enabled); jobs and ticks open their context with CorrelationContext.run().
 */
@Global()
@Module({
  imports: [ClsModule.forRoot({ global: true, middleware: { mount: false } })],
  providers: [CorrelationContext, CorrelationMiddleware],
  exports: [CorrelationContext, CorrelationMiddleware],
})
export class CorrelationModule {}
