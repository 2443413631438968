import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RotationScheduler, type SchedulerReport } from '@keyledger/application';
import { Roles } from '../http/request.js';
import { Validate } from '../http/validation.js';
import { emptySchema } from './schemas.js';

/** Operators may run the rotation scheduler now rather than wait for its next tick. */
@ApiTags('governance')
@ApiBearerAuth()
@Controller('v1/scheduler')
export class SchedulerController {
  constructor(private readonly scheduler: RotationScheduler) {}

  @Post('run')
  @HttpCode(200)
  @Roles('operator')
  @ApiOperation({ summary: 'Rotate the versions at the end of their OUP now (roots: raise a finding)' })
  run(@Body(new Validate(emptySchema)) _b: unknown): Promise<SchedulerReport> {
    return this.scheduler.tick();
  }
}
