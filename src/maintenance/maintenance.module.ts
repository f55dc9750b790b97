import { Module } from '@nestjs/common';
import { MaintenanceProcessor } from './maintenance.processor';
import { QueueCleanupService } from './queue-cleanup.service';

@Module({ providers: [QueueCleanupService, MaintenanceProcessor] })
export class MaintenanceModule {}
