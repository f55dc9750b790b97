import { Module } from '@nestjs/common';
import { ExportsProcessor } from './exports.processor';

@Module({ providers: [ExportsProcessor] })
export class ExportsModule {}
