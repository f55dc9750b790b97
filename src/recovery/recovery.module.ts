import { Module } from '@nestjs/common';
import { ExportsModule } from '../exports/exports.module';
import { PayoutModule } from '../payout/payout.module';
import { RecoveryProcessor } from './recovery.processor';
import { RedisGeneration } from './redis-generation';
import { RedisLossRecovery } from './redis-loss-recovery';

/** Re-creates the jobs PostgreSQL owes after Redis lost data (docs/reliability.md). */
@Module({
  imports: [PayoutModule, ExportsModule],
  providers: [RedisGeneration, RedisLossRecovery, RecoveryProcessor],
})
export class RecoveryModule {}
