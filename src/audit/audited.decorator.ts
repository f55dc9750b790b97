import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import { AUDIT_ACTION, AuditInterceptor } from './audit.interceptor';

/** Writes an audit_log row for every call of this handler, accepted or refused. */
export const Audited = (action: string): MethodDecorator =>
  applyDecorators(SetMetadata(AUDIT_ACTION, action), UseInterceptors(AuditInterceptor));
