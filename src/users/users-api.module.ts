import { Module } from '@nestjs/common';
import { UsersController } from './users.controller';
import { UsersModule } from './users.module';

/** The user management routes, for the roles that serve HTTP. */
@Module({ imports: [UsersModule], controllers: [UsersController] })
export class UsersApiModule {}
