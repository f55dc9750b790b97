import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { ScheduleCatalogModule } from './schedule-catalog.module';
import { SchedulesController } from './schedules.controller';
import { SchedulesService } from './schedules.service';

/** GET /schedules and POST /schedules/:name/run, for the roles that serve HTTP (api, all). */
@Module({
  imports: [ScheduleCatalogModule, AuditModule],
  controllers: [SchedulesController],
  providers: [SchedulesService],
})
export class SchedulesApiModule {}
