import { Controller, HttpCode, HttpStatus, Param, ParseIntPipe, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { Admin } from '../http/route-group.decorator';
import { ApiError } from '../openapi/api-errors.decorator';
import { AcceptedView } from './dto/payout.views';
import { Accepted, PayoutAdminService } from './payout-admin.service';

@ApiTags('payees')
@Controller('payees')
export class PayeeController {
  constructor(private readonly payouts: PayoutAdminService) {}

  /** Pays this payee's whole positive balance now, minimum or not (runs as a job): 202. */
  @Post(':id/pay')
  @Admin()
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({ summary: "Pay a payee's whole positive balance now (runs as a job)" })
  @ApiParam({ name: 'id', type: 'integer', description: 'Payee ID' })
  @ApiAcceptedResponse({ type: AcceptedView })
  @ApiError(400, 'The ID is not an integer')
  @ApiError(404, 'No such payee')
  @ApiError(409, 'The payee is inactive')
  pay(@Param('id', ParseIntPipe) id: number): Promise<Accepted> {
    return this.payouts.requestPayeePayout(id);
  }
}
