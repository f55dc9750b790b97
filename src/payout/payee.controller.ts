import { Controller, HttpCode, HttpStatus, Param, ParseIntPipe, Post } from '@nestjs/common';
import { Admin } from '../http/route-group.decorator';
import { Accepted, PayoutAdminService } from './payout-admin.service';

@Controller('payees')
export class PayeeController {
  constructor(private readonly payouts: PayoutAdminService) {}

  /** Pays this payee's whole positive balance now, minimum or not (runs as a job): 202. */
  @Post(':id/pay')
  @Admin()
  @HttpCode(HttpStatus.ACCEPTED)
  pay(@Param('id', ParseIntPipe) id: number): Promise<Accepted> {
    return this.payouts.requestPayeePayout(id);
  }
}
