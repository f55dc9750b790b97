import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ErrorView } from '../queues-api/dto/queue.views';

const DESCRIPTIONS: Record<number, string> = {
  400: 'Malformed input: the message lists each problem',
  404: 'No such queue or job',
  409: 'The job is not in a state that allows this',
};

/** Documents the error answers of a route with the shape every error has. */
export function ApiErrors(...statuses: Array<400 | 404 | 409>): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({ status, description: DESCRIPTIONS[status], type: ErrorView }),
    ),
  );
}

/** One error answer of a route, with its own description, in the shape every error has. */
export function ApiError(status: number, description: string): MethodDecorator & ClassDecorator {
  return ApiResponse({ status, description, type: ErrorView });
}
