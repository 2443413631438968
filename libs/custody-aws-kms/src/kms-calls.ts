import { setTimeout as sleep } from 'node:timers/promises';
import type { KMSClient } from '@aws-sdk/client-kms';
import {
  CustodianAccessDeniedError,
  CustodianKeyStateError,
  CustodianUnavailableError,
  CustodyOperationError,
  DecryptionFailedError,
  MaterialNotFoundError,
} from '@keyledger/custody';

/** Bounded retry with exponential backoff and full jitter, for throttling and transient faults only. */
export interface RetryPolicy {
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = Object.freeze({ attempts: 5, baseDelayMs: 50, maxDelayMs: 2000 });

/** KMS answers that mean "slow down" or "try again": retried, then reported as unavailable. */
const TRANSIENT = new Set([
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'KMSInternalException',
  'DependencyTimeoutException',
  'KeyUnavailableException',
  'TimeoutError',
  'RequestTimeout',
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
]);

const nameOf = (error: unknown): string => {
  const { name, code } = (error ?? {}) as { name?: unknown; code?: unknown };
  if (typeof code === 'string' && code.startsWith('E')) return code;
  return typeof name === 'string' ? name : 'UnknownError';
};

export const isTransient = (error: unknown): boolean => TRANSIENT.has(nameOf(error));

/**
 * Our typed error for a KMS failure. The message names the operation and KMS's error name only:
 * KMS messages can quote request fields, and nothing of a request may reach a log.
 */
export function custodyErrorOf(error: unknown, operation: string, materialRef: string | undefined): Error {
  const name = nameOf(error);
  const message = `AWS KMS ${operation} failed: ${name}`;
  switch (name) {
    case 'AccessDeniedException':
      return new CustodianAccessDeniedError(message);
    case 'KMSInvalidStateException':
    case 'DisabledException':
      return new CustodianKeyStateError(materialRef ?? '', message);
    case 'NotFoundException':
      return new MaterialNotFoundError(materialRef ?? '');
    case 'InvalidCiphertextException':
    case 'IncorrectKeyException':
      return materialRef ? new DecryptionFailedError(materialRef) : new CustodyOperationError(message);
    default:
      return isTransient(error) ? new CustodianUnavailableError(message) : new CustodyOperationError(message);
  }
}

/** Sends KMS commands with our retry policy (the SDK's own retries are turned off) and error mapping. */
export class KmsCalls {
  constructor(
    private readonly client: KMSClient,
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
    private readonly wait: (ms: number) => Promise<unknown> = sleep,
    private readonly random: () => number = Math.random,
  ) {}

  /** `command` is any KMS command object; its output type is the caller's `Output`. */
  async send<Output>(operation: string, command: object, materialRef?: string): Promise<Output> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return (await this.client.send(command as Parameters<KMSClient['send']>[0])) as Output;
      } catch (error) {
        if (!isTransient(error) || attempt >= this.retry.attempts) throw custodyErrorOf(error, operation, materialRef);
        await this.wait(this.delayBefore(attempt + 1));
      }
    }
  }

  /** Full jitter (random in [0, cap]) so that throttled processes do not retry in lockstep. */
  delayBefore(attempt: number): number {
    const cap = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 2));
    return Math.round(this.random() * cap);
  }
}
