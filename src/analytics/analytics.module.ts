import { Module } from '@nestjs/common';
import { AnalyticsProcessor } from './analytics.processor';

@Module({ providers: [AnalyticsProcessor] })
export class AnalyticsModule {}
