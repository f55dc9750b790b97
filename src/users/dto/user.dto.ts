import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional, Matches } from 'class-validator';
import type { UserRole } from '../../database';

const ROLES: UserRole[] = ['admin', 'operator', 'viewer'];

export class UserParams {
  @ApiProperty({ description: 'User ID', example: '42' })
  // A pattern rather than ParseIntPipe: a 20-digit ID would reach PostgreSQL as out of range.
  @Matches(/^[1-9][0-9]{0,14}$/, { message: 'id must be a user ID (a positive whole number)' })
  id!: string;
}

export class UpdateUserDto {
  @ApiPropertyOptional({ enum: ROLES, description: 'New role; effective on the next request' })
  @IsOptional()
  @IsIn(ROLES, { message: `role must be one of ${ROLES.join(', ')}` })
  role?: UserRole;

  @ApiPropertyOptional({
    description: 'true: the user cannot log in and their sessions end; false: enabled again',
  })
  @IsOptional()
  @IsBoolean()
  disabled?: boolean;
}

export class UserView {
  @ApiProperty() id!: number;
  @ApiProperty() email!: string;
  @ApiProperty({ enum: ROLES }) role!: UserRole;
  @ApiProperty() disabled!: boolean;
  @ApiProperty() createdAt!: Date;
}
