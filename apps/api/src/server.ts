import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { NextFunction, Response } from 'express';
import { Principals, type Clock } from '@keyledger/application';
import { AppModule } from './app.module.js';
import { auditSettingsOf } from './audit/audit.settings.js';
import type { KeyledgerConfig } from './config.js';
import { openEngine } from './engine.js';
import { bodyErrors, jsonBody } from './http/body.js';
import type { KeyledgerRequest } from './http/request.js';
import { JsonLogger } from './observability/logger.js';
import { meteredEventStore } from './observability/metered-event-store.js';
import { Metrics } from './observability/metrics.js';

export interface RunningServer {
  readonly url: string;
  /** The bootstrap admin token when it was generated at this start (printed once), else null. */
  readonly generatedAdminToken: string | null;
  close(): Promise<void>;
}

const CORRELATION = /^[A-Za-z0-9._:-]{1,128}$/;

/** The command a POST route runs: its last path segment, or `generate`/`register` for the collections. */
const commandOf = (route: string): string | null => {
  if (route === 'unmatched') return null;
  const last = route.split('/').pop() ?? '';
  if (last === 'keys') return 'generate';
  if (last === 'recipients') return 'register-recipient';
  return last.startsWith(':') ? null : last;
};

/** Correlation id per request (echoed), and one structured log line and metric per answer. */
const observe = (logger: JsonLogger, metrics: Metrics) => (req: KeyledgerRequest, res: Response, next: NextFunction) => {
  const given = req.headers['x-correlation-id'];
  req.correlationId = typeof given === 'string' && CORRELATION.test(given) ? given : randomUUID();
  res.setHeader('X-Correlation-Id', req.correlationId);
  const started = process.hrtime.bigint();
  res.on('finish', () => {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
    metrics.httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
    metrics.httpDuration.observe({ method: req.method, route }, seconds);
    const command = req.method === 'POST' ? commandOf(route) : null;
    if (command) metrics.commands.inc({ command, outcome: res.statusCode < 400 ? 'success' : 'refused' });
    logger.event('info', 'request', {
      method: req.method,
      route,
      status: res.statusCode,
      durationMs: Math.round(seconds * 1e6) / 1e3,
      correlationId: req.correlationId,
      principal: req.actor?.principalId ?? null,
    });
  });
  next();
};

export interface ServerOptions {
  /** Time as the engine sees it; tests move it forward to reach the end of a cryptoperiod. */
  readonly clock?: Clock;
}

export const startServer = async (
  config: KeyledgerConfig,
  logger = new JsonLogger(config.logLevel),
  options: ServerOptions = {},
): Promise<RunningServer> => {
  const metrics = new Metrics();
  const engine = await openEngine(config, logger, options.clock);
  const ports = { ...engine.ports, eventStore: meteredEventStore(engine.ports.eventStore, metrics) };
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(ports, logger, metrics, auditSettingsOf(config, resolve(config.dataDir), engine.ports.custodian)), {
    bodyParser: false,
    logger,
    abortOnError: false,
  });
  app.disable('x-powered-by');
  app.use(observe(logger, metrics));
  app.use(jsonBody(config.bodyLimitBytes));
  app.use(bodyErrors);
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('keyledger')
      .setDescription('Event-sourced key lifecycle engine: commands, reads and audit')
      .setVersion('0.1.0')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  const bootstrap = await app.get(Principals).bootstrapAdmin(config.adminToken);
  await app.listen(config.port, config.host);
  const address = app.getHttpServer().address() as AddressInfo;
  const url = `http://${config.host}:${address.port}`;
  const custody = engine.ports.custodian.health();
  logger.event('info', 'keyledger listening', { url, store: config.store, custodian: custody.label });
  return {
    url,
    generatedAdminToken: bootstrap?.generated ? bootstrap.token : null,
    close: async () => {
      await app.close();
      await engine.close();
    },
  };
};
