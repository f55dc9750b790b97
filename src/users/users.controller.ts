import {
  Body,
  ConflictException,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Patch,
} from '@nestjs/common';
import {
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { Audited } from '../audit/audited.decorator';
import { CurrentUser, RequestUser } from '../http/current-user.decorator';
import { Admin } from '../http/route-group.decorator';
import { ApiErrors } from '../openapi/api-errors.decorator';
import { ErrorView } from '../queues-api/dto/queue.views';
import { UpdateUserDto, UserParams, UserView } from './dto/user.dto';
import { UsersService } from './users.service';

/** User management for admins: every change is audited and takes effect on the next request. */
@ApiTags('users')
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Admin()
  @Get()
  @ApiOperation({ summary: 'Every user, with role and disabled state' })
  @ApiOkResponse({ type: UserView, isArray: true })
  list(): Promise<UserView[]> {
    return this.users.list();
  }

  @Admin()
  @Patch(':id')
  @Audited('user.update', (req) => `users/${req.params.id}`)
  @ApiOperation({
    summary: "Changes a user's role or disables/enables them",
    description:
      "Effective on the user's next request on every instance; disabling also ends their sessions. " +
      'An admin cannot demote or disable themselves (409), so one admin always remains.',
  })
  @ApiOkResponse({ type: UserView })
  @ApiErrors(400)
  @ApiResponse({ status: 404, description: 'No such user', type: ErrorView })
  @ApiResponse({
    status: 409,
    description: 'An admin demoting or disabling themselves',
    type: ErrorView,
  })
  async update(
    @Param() params: UserParams,
    @Body() change: UpdateUserDto,
    @CurrentUser() actor: RequestUser,
  ): Promise<UserView> {
    const id = Number(params.id);
    if (id === actor.id && (change.disabled === true || (change.role && change.role !== 'admin')))
      throw new ConflictException('You cannot demote or disable yourself: ask another admin');
    const user = await this.users.update(id, change);
    if (!user) throw new NotFoundException(`No user ${id}`);
    return user;
  }

  @Admin()
  @Delete(':id/sessions')
  @HttpCode(204)
  @Audited('user.sessions.end', (req) => `users/${req.params.id}`)
  @ApiOperation({
    summary: 'Ends every session of a user, on every instance (they must log in again)',
  })
  @ApiNoContentResponse({ description: 'Sessions ended' })
  @ApiErrors(400)
  @ApiResponse({ status: 404, description: 'No such user', type: ErrorView })
  async endSessions(@Param() params: UserParams): Promise<void> {
    const ended = await this.users.endSessions(Number(params.id));
    if (!ended) throw new NotFoundException(`No user ${params.id}`);
  }
}
