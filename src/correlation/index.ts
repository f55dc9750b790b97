export * from './correlation.store';
export { CorrelationContext } from './correlation.context';
export { CorrelationModule } from './correlation.module';
export { CorrelationMiddleware } from './correlation.middleware';
