import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Controller, Get, Header, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { HttpProblem } from '../http/problem.js';
import { Public } from '../http/request.js';

/** Where keyledger is installed: `bin/keyledger.js` says so; otherwise the working directory. */
const home = (): string => process.env.KEYLEDGER_HOME ?? process.cwd();

const ASSETS: Readonly<Record<string, { path: () => string; type: string }>> = {
  'dashboard.js': { path: () => join(home(), 'apps/api/dashboard/dashboard.js'), type: 'text/javascript; charset=utf-8' },
  'dashboard.css': { path: () => join(home(), 'apps/api/dashboard/dashboard.css'), type: 'text/css; charset=utf-8' },
  'chart.umd.js': { path: () => join(home(), 'node_modules/chart.js/dist/chart.umd.js'), type: 'text/javascript; charset=utf-8' },
};

const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'";

/**
 * The dashboard page and its static assets. They carry no data: the page signs in with a token
 * and reads the same authenticated API as every other client, so the files themselves are public.
 */
@ApiExcludeController()
@Controller('dashboard')
export class DashboardController {
  @Get()
  @Public()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Content-Security-Policy', CSP)
  page(): string {
    return readFileSync(join(home(), 'apps/api/dashboard/index.html'), 'utf8');
  }

  @Get('assets/:file')
  @Public()
  asset(@Param('file') file: string, @Res() res: Response): void {
    const asset = ASSETS[file];
    if (!asset) throw new HttpProblem('REQUEST.INVALID', `No dashboard asset ${file}`);
    res.setHeader('Content-Security-Policy', CSP);
    res.type(asset.type).send(readFileSync(asset.path()));
  }
}
