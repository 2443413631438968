import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { KEY_CUSTODIAN } from '@keyledger/application';
import type { KeyCustodian } from '@keyledger/custody';
import { Metrics } from '../observability/metrics.js';
import { Public, Roles } from '../http/request.js';

/** Health (status and custodian label only, no details) and Prometheus metrics. */
@ApiTags('operations')
@Controller()
export class OperationsController {
  constructor(
    private readonly metrics: Metrics,
    @Inject(KEY_CUSTODIAN) private readonly custodian: KeyCustodian,
  ) {}

  @Get('health')
  @Public()
  health(): { status: 'ok'; custodian: { kind: string; fipsValidated: boolean; label: string } } {
    const h = this.custodian.health();
    return { status: 'ok', custodian: { kind: h.custodian, fipsValidated: h.fipsValidated, label: h.label } };
  }

  @Get('metrics')
  @Roles('operator')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
