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
import { CurrentUser, RequestUser } from '../http/current-user.decorator';
import { Authenticated } from '../http/route-group.decorator';
import { CreateExportDto } from './dto/create-export.dto';
import { ExportService, ExportView } from './export.service';

/**
 * Exports are open to every logged-in user, not only admins: requesting one changes no business
 * data (it is a read, run in the background), and each export is readable by its creator only
 * (and admins).
 */
@Controller('exports')
@Authenticated()
export class ExportsController {
  constructor(private readonly exports: ExportService) {}

  /** Starts a CSV export of the payouts matching the filters: 202 with its ID. */
  @Post()
  @HttpCode(HttpStatus.ACCEPTED)
  create(@Body() filters: CreateExportDto, @CurrentUser() user: RequestUser) {
    return this.exports.request(filters, user);
  }

  @Get(':id')
  get(
    @Param('id', new ParseUUIDPipe({ version: '4' })) id: string,
    @CurrentUser() user: RequestUser,
  ): Promise<ExportView> {
    return this.exports.get(id, user);
  }

  /** The CSV, streamed from PostgreSQL (any API instance can serve it). */
  @Get(':id/download')
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
