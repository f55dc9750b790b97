import {
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
} from '@nestjs/common';
import { Admin, Authenticated } from '../http/route-group.decorator';
import { ListPayoutsQuery } from './dto/list-payouts.query';
import { Accepted, PayoutAdminService } from './payout-admin.service';

@Controller('payouts')
export class PayoutController {
  constructor(private readonly payouts: PayoutAdminService) {}

  /** Starts a full payout cycle now (it runs as a job): 202 with the job and correlation IDs. */
  @Post('cycle')
  @Admin()
  @HttpCode(HttpStatus.ACCEPTED)
  triggerCycle(): Promise<Accepted> {
    return this.payouts.requestCycle();
  }

  @Get()
  @Authenticated()
  list(@Query() query: ListPayoutsQuery) {
    return this.payouts.list(query);
  }

  /** The payout and its history of status changes. */
  @Get(':id')
  @Authenticated()
  get(@Param('id', new ParseUUIDPipe({ version: '4' })) id: string) {
    return this.payouts.get(id);
  }

  /** Cancels a pending payout and gives its amount back (409 once it is processing or done). */
  @Post(':id/cancel')
  @Admin()
  @HttpCode(HttpStatus.OK)
  cancel(@Param('id', new ParseUUIDPipe({ version: '4' })) id: string) {
    return this.payouts.cancel(id);
  }
}
