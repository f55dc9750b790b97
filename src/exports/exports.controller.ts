import {
  Body,
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  ParseUUIDPipe,
  Post,
  StreamableFile,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentUser, RequestUser } from '../http/current-user.decorator';
import { ApiError } from '../openapi/api-errors.decorator';
import { ExportAcceptedView, ExportViewDoc } from './dto/export.views';
import { Authenticated } from '../http/route-group.decorator';
import { CreateExportDto } from './dto/create-export.dto';
import { ExportService, ExportView } from './export.service';

/**
 * Exports are open to every logged-in user, not only admins: requesting one changes no business
 * data (it is a read, run in the background), and each export is readable by its creator only
 * (and admins).
 */
@ApiTags('exports')
@Controller('exports')
@Authenticated()
export class ExportsController {
  constructor(private readonly exports: ExportService) {}

  /** Starts a CSV export of the payouts matching the filters: 202 with its ID. */
  @Post()
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({ summary: 'Start a CSV export of the payouts matching the filters' })
  @ApiAcceptedResponse({ type: ExportAcceptedView })
  @ApiError(400, 'Malformed filters: the message lists each problem')
  create(@Body() filters: CreateExportDto, @CurrentUser() user: RequestUser) {
    return this.exports.request(filters, user);
  }

  @Get(':id')
  @ApiOperation({ summary: 'An export: status, progress, size' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: ExportViewDoc })
  @ApiError(400, 'The ID is not a UUID')
  @ApiError(403, 'The export belongs to another user (admins may read every export)')
  @ApiError(404, 'No such export')
  get(
    @Param('id', new ParseUUIDPipe({ version: '4' })) id: string,
    @CurrentUser() user: RequestUser,
  ): Promise<ExportView> {
    return this.exports.get(id, user);
  }

  /** The CSV, streamed from PostgreSQL (any API instance can serve it). */
  @Get(':id/download')
  @ApiOperation({ summary: 'Download a finished export as CSV' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiProduces('text/csv')
  @ApiOkResponse({
    description: 'The CSV (attachment)',
    content: { 'text/csv': { schema: { type: 'string' } } },
  })
  @ApiError(400, 'The ID is not a UUID')
  @ApiError(403, 'The export belongs to another user (admins may read every export)')
  @ApiError(404, 'No such export')
  @ApiError(409, 'The export is not done yet')
  async download(
    @Param('id', new ParseUUIDPipe({ version: '4' })) id: string,
    @CurrentUser() user: RequestUser,
  ): Promise<StreamableFile> {
    const file = await this.exports.download(id, user);
    return new StreamableFile(file.stream, {
      type: 'text/csv; charset=utf-8',
      disposition: `attachment; filename="${file.fileName}"`,
      length: file.byteSize,
    });
  }
}
