import { Module } from '@nestjs/common';
import { AnalyticsProcessor } from './analytics.processor';
import { AnalyticsService } from './analytics.service';

@Module({ providers: [AnalyticsService, AnalyticsProcessor], exports: [AnalyticsService] })
export class AnalyticsModule {}
