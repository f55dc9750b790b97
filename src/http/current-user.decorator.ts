import { createParamDecorator, ExecutionContext, UnauthorizedException } from '@nestjs/common';
import { UserRole } from '../database';

/** The logged-in user, put on the request by the session layer. */
export interface RequestUser {
  id: number;
  email: string;
  role: UserRole;
}

/**
 * `@CurrentUser() user: RequestUser` in a handler of an authenticated route. The guard has let
 * only logged-in users through; a missing user here is answered 401, never a crash.
 */
export const CurrentUser = createParamDecorator(
  (_data: unknown, context: ExecutionContext): RequestUser => {
    const request = context.switchToHttp().getRequest<{ user?: RequestUser }>();
    if (!request.user) throw new UnauthorizedException('Log in to use this route');
    return request.user;
  },
);
