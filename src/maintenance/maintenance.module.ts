import { Module } from '@nestjs/common';
import { ScheduleCatalogModule } from '../scheduler/schedule-catalog.module';
import { MaintenanceProcessor } from './maintenance.processor';
import { QueueCleanupService } from './queue-cleanup.service';

@Module({
  imports: [ScheduleCatalogModule],
  providers: [QueueCleanupService, MaintenanceProcessor],
})
export class MaintenanceModule {}
