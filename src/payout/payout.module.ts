import { Module } from '@nestjs/common';
import { AppConfig } from '../config';
import { createDatabase } from '../database';
import { LedgerRepository } from './ledger.repository';
import { PayeeController } from './payee.controller';
import { PayoutAdminService } from './payout-admin.service';
import { PayoutCycleService } from './payout-cycle.service';
import { PayoutProcessingService } from './payout-processing.service';
import { PayoutQueryRepository } from './payout-query.repository';
import { PayoutController } from './payout.controller';
import { PayoutNotifier } from './payout.notifier';
import { PayoutProcessor } from './payout.processor';
import { PayoutRepository } from './payout.repository';
import { PAYMENT_PROVIDER, PaymentProvider } from './provider/payment-provider';
import { SimulatedPaymentProvider } from './provider/simulated-payment.provider';
import { ReconcilerService } from './reconciler.service';

/** PAYMENT_PROVIDER picks the adapter; a real one is one more case here (docs/payment-providers.md). */
function createPaymentProvider(config: AppConfig): PaymentProvider {
  switch (config.payouts.provider.kind) {
    case 'simulated': {
      // Its own small pool (opened lazily): it stands for an outside system, and holds a
      // connection only for its own short statements, never while a call waits.
      const db = createDatabase({
        url: config.database.url,
        poolSize: 4,
        applicationName: 'simulated-provider',
      });
      return new SimulatedPaymentProvider(db, config.payouts.provider);
    }
  }
}

@Module({
  controllers: [PayoutController, PayeeController],
  providers: [
    { provide: PAYMENT_PROVIDER, inject: [AppConfig], useFactory: createPaymentProvider },
    LedgerRepository,
    PayoutRepository,
    PayoutQueryRepository,
    PayoutNotifier,
    PayoutCycleService,
    PayoutProcessingService,
    ReconcilerService,
    PayoutAdminService,
    PayoutProcessor,
  ],
  exports: [PayoutCycleService, PayoutProcessingService, ReconcilerService, PAYMENT_PROVIDER],
})
export class PayoutModule {}
