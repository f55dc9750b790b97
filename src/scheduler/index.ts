export { SchedulerModule } from './scheduler.module';
export { SchedulesApiModule } from './schedules-api.module';
