import type { LoggerService } from '@nestjs/common';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

/** Field names whose values never reach a log line, whatever their shape. */
const SECRET_FIELD = /token|authorization|secret|password|pin|plaintext|wrapped|material|privatekey|ciphertext/i;
/** Our bearer tokens, wherever they appear inside a string. */
const TOKEN_PATTERN = /klt_[A-Za-z0-9_-]{20,}/g;

export const redact = (value: unknown, depth = 0): unknown => {
  if (typeof value === 'string') return value.replace(TOKEN_PATTERN, '[redacted-token]');
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, SECRET_FIELD.test(k) ? '[redacted]' : redact(v, depth + 1)]),
  );
};

/**
 * Structured JSON logs, one object a line, redacted. Nest's own messages come through the same
 * path (it is installed as the application logger).
 */
export class JsonLogger implements LoggerService {
  constructor(
    private readonly level: LogLevel = 'info',
    private readonly write: (line: string) => void = (line) => process.stdout.write(line + '\n'),
  ) {}

  log(message: unknown, ...rest: unknown[]): void {
    this.emit('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.emit('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.emit('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.emit('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.emit('debug', message, rest);
  }

  /** A structured event: `msg` plus fields. */
  event(level: Exclude<LogLevel, 'silent'>, msg: string, fields: Record<string, unknown> = {}): void {
    if (RANK[level] < RANK[this.level]) return;
    const entry = { level, time: new Date().toISOString(), msg, ...(redact(fields) as Record<string, unknown>) };
    this.write(JSON.stringify(entry));
  }

  private emit(level: Exclude<LogLevel, 'silent'>, message: unknown, rest: unknown[]): void {
    const context = typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined;
    const msg = message instanceof Error ? message.message : typeof message === 'string' ? message : JSON.stringify(redact(message));
    this.event(level, redact(msg) as string, context ? { context } : {});
  }
}
