import { MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { QueueRegistry } from '../queue/queue-registry';
import { ADMIN_BOARD_PATH, createBoard, READ_ONLY_BOARD_PATH } from './dashboard-boards';
import { DashboardGate } from './dashboard-gate';

/**
 * Bull Board for the four queues: full at /admin/queues (admins), read-only at /monitor/queues
 * (any logged-in user), both behind the API session. For the HTTP roles.
 */
@Module({ imports: [AuditModule], providers: [DashboardGate] })
export class DashboardModule implements NestModule {
  constructor(
    private readonly queues: QueueRegistry,
    private readonly gate: DashboardGate,
  ) {}

  configure(consumer: MiddlewareConsumer): void {
    const queues = this.queues.all();
    consumer
      .apply(this.gate.forAdmins(), createBoard(ADMIN_BOARD_PATH, queues, false))
      .forRoutes(ADMIN_BOARD_PATH);
    consumer
      .apply(this.gate.forEveryone(), createBoard(READ_ONLY_BOARD_PATH, queues, true))
      .forRoutes(READ_ONLY_BOARD_PATH);
  }
}
