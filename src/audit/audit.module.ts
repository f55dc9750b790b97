import { Global, Module } from '@nestjs/common';
import { AuditInterceptor } from './audit.interceptor';
import { AuditLog } from './audit-log.service';

/** The audit log of mutations (audit_log table), for the roles that serve HTTP. */
@Global()
@Module({ providers: [AuditLog, AuditInterceptor], exports: [AuditLog, AuditInterceptor] })
export class AuditModule {}
