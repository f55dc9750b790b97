import { Module } from '@nestjs/common';
import { ExportWriterService } from './export-writer.service';
import { ExportRepository } from './export.repository';
import { ExportService } from './export.service';
import { ExportsController } from './exports.controller';
import { ExportsProcessor } from './exports.processor';

@Module({
  controllers: [ExportsController],
  providers: [ExportRepository, ExportService, ExportWriterService, ExportsProcessor],
  exports: [ExportService, ExportWriterService],
})
export class ExportsModule {}
