import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import type { Request } from 'express';
import { AUDIT_ACTION, AUDIT_TARGET, AuditInterceptor } from './audit.interceptor';

/**
 * Writes an audit_log row for every call of this handler, accepted or refused. The target is
 * the queue and job of the route unless `target` names it (`users/42`).
 */
export const Audited = (action: string, target?: (req: Request) => string): MethodDecorator =>
  applyDecorators(
    SetMetadata(AUDIT_ACTION, action),
    ...(target ? [SetMetadata(AUDIT_TARGET, target)] : []),
    UseInterceptors(AuditInterceptor),
  );
