import { ApiProperty } from '@nestjs/swagger';
import type { ExportView } from '../export.service';

const EXPORT_STATUSES = ['pending', 'running', 'done', 'failed'] as const;

/** The OpenAPI shape of an export; implements the service's view, dates as ISO strings. */
export class ExportViewDoc implements Omit<ExportView, 'createdAt' | 'finishedAt'> {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: EXPORT_STATUSES }) status!: ExportView['status'];
  @ApiProperty({ description: 'Percent of rows written, 0 to 100' }) progress!: number;
  @ApiProperty() rowCount!: number;
  @ApiProperty() byteSize!: number;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The filters requested' })
  filters!: Record<string, unknown>;
  @ApiProperty({ type: String, nullable: true }) fileName!: string | null;
  @ApiProperty({ type: String, nullable: true }) error!: string | null;
  @ApiProperty({ type: Number, nullable: true, description: 'User ID' }) requestedBy!:
    | number
    | null;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) finishedAt!: string | null;
}

export class ExportAcceptedView {
  @ApiProperty({ format: 'uuid', description: 'GET /exports/{id} with it' }) exportId!: string;
  @ApiProperty() jobId!: string;
  @ApiProperty() correlationId!: string;
}
