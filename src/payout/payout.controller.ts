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
import {
  ApiAcceptedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { Admin, Authenticated } from '../http/route-group.decorator';
import { ApiError } from '../openapi/api-errors.decorator';
import { AcceptedView, PayoutDetailView, PayoutPageView, PayoutViewDoc } from './dto/payout.views';
import { ListPayoutsQuery } from './dto/list-payouts.query';
import { Accepted, PayoutAdminService } from './payout-admin.service';

@ApiTags('payouts')
@Controller('payouts')
export class PayoutController {
  constructor(private readonly payouts: PayoutAdminService) {}

  /** Starts a full payout cycle now (it runs as a job): 202 with the job and correlation IDs. */
  @Post('cycle')
  @Admin()
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({ summary: 'Start a payout cycle now (runs as a job)' })
  @ApiAcceptedResponse({ type: AcceptedView })
  triggerCycle(): Promise<Accepted> {
    return this.payouts.requestCycle();
  }

  @Get()
  @Authenticated()
  @ApiOperation({ summary: 'Payouts, newest first, filtered by status, payee and creation time' })
  @ApiOkResponse({ type: PayoutPageView })
  @ApiError(400, 'Malformed filter, cursor or limit: the message lists each problem')
  list(@Query() query: ListPayoutsQuery) {
    return this.payouts.list(query);
  }

  /** The payout and its history of status changes. */
  @Get(':id')
  @Authenticated()
  @ApiOperation({ summary: 'One payout and its history of status changes' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: PayoutDetailView })
  @ApiError(400, 'The ID is not a UUID')
  @ApiError(404, 'No such payout')
  get(@Param('id', new ParseUUIDPipe({ version: '4' })) id: string) {
    return this.payouts.get(id);
  }

  /** Cancels a pending payout and gives its amount back (409 once it is processing or done). */
  @Post(':id/cancel')
  @Admin()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Cancel a pending payout and give its amount back' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: PayoutViewDoc })
  @ApiError(400, 'The ID is not a UUID')
  @ApiError(404, 'No such payout')
  @ApiError(409, 'The payout is no longer pending (processing or finished)')
  cancel(@Param('id', new ParseUUIDPipe({ version: '4' })) id: string) {
    return this.payouts.cancel(id);
  }
}
