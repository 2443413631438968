/**
 * Configuration from the environment (SPEC §9). Secrets (the admin token, the PKCS#11 PIN) are
 * read from the environment or files and never logged.
 */
export type StoreKind = 'sqlite' | 'postgres' | 'esdb';
export type CustodianKind = 'software' | 'pkcs11' | 'aws-kms';

export interface KeyledgerConfig {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly adminToken: string | undefined;
  readonly store: StoreKind;
  readonly pgUrl: string | undefined;
  readonly esdbUrl: string | undefined;
  readonly custodian: CustodianKind;
  readonly pkcs11Module: string | undefined;
  readonly pkcs11TokenLabel: string | undefined;
  readonly pkcs11PinFile: string | undefined;
  readonly awsKmsEndpoint: string | undefined;
  /** Concurrent sessions the PKCS#11 custodian opens on its token. */
  readonly pkcs11Sessions: number;
  /** How long, and for how many uses, an unwrapped DEK may stay in memory (0 ms: never). */
  readonly dekCacheTtlMs: number;
  readonly dekCacheMaxUses: number;
  /** Pause between two DEKs of a KEK rewrap job (spares an HSM's or KMS's request quota). */
  readonly rewrapPauseMs: number;
  /** KMS's own pending window when a KMS key is destroyed (7–30 days, after keyledger's waiting period). */
  readonly awsKmsPendingWindowDays: number;
  readonly destructionWaitMinDays: number;
  /** Distinct custodians a request needs, per operation class: root-key operations, KEK destruction. */
  readonly approvalsRequired: { readonly root: number; readonly kek: number };
  readonly approvalTtlHours: number;
  /** How often the rotation scheduler looks for versions at the end of their OUP (0: never). */
  readonly schedulerIntervalMs: number;
  /** Purposes the scheduler rotates by itself; roots always go through dual control. */
  readonly autoRotate: readonly ('dek' | 'kek')[];
  readonly bodyLimitBytes: number;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** A signed audit checkpoint at least every this many events... */
  readonly checkpointEvery: number;
  /** ...and at most this long after an event (and at shutdown). */
  readonly checkpointIntervalMs: number;
}

export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

const oneOf = <T extends string>(name: string, value: string | undefined, allowed: readonly T[], fallback: T): T => {
  if (value === undefined || value === '') return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new ConfigurationError(`${name} must be one of ${allowed.join(', ')}; got "${value}"`);
};

const integer = (name: string, value: string | undefined, fallback: number, min: number, max: number): number => {
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
    throw new ConfigurationError(`${name} must be an integer from ${min} to ${max}; got "${value}"`);
  }
  return parsed;
};

const purposes = (name: string, value: string | undefined): ('dek' | 'kek')[] => {
  if (value === undefined) return ['dek', 'kek'];
  const listed = value.split(',').map((p) => p.trim()).filter((p) => p !== '');
  for (const p of listed) {
    if (p !== 'dek' && p !== 'kek') throw new ConfigurationError(`${name} lists dek and kek only (roots rotate under dual control); got "${p}"`);
  }
  return [...new Set(listed)] as ('dek' | 'kek')[];
};

const approvalClasses = (env: NodeJS.ProcessEnv): { root: number; kek: number } => {
  const all = integer('KEYLEDGER_APPROVALS_REQUIRED', env.KEYLEDGER_APPROVALS_REQUIRED, 2, 1, 10);
  return {
    root: integer('KEYLEDGER_APPROVALS_REQUIRED_ROOT', env.KEYLEDGER_APPROVALS_REQUIRED_ROOT, all, 1, 10),
    kek: integer('KEYLEDGER_APPROVALS_REQUIRED_KEK', env.KEYLEDGER_APPROVALS_REQUIRED_KEK, all, 1, 10),
  };
};

const optional = (value: string | undefined): string | undefined => (value === '' ? undefined : value);

export const loadConfig = (env: NodeJS.ProcessEnv = process.env): KeyledgerConfig => ({
  dataDir: env.KEYLEDGER_DATA_DIR || './data',
  host: env.KEYLEDGER_HOST || '127.0.0.1',
  port: integer('KEYLEDGER_PORT', env.KEYLEDGER_PORT, 8080, 0, 65535),
  adminToken: optional(env.KEYLEDGER_ADMIN_TOKEN),
  store: oneOf('KEYLEDGER_STORE', env.KEYLEDGER_STORE, ['sqlite', 'postgres', 'esdb'] as const, 'sqlite'),
  pgUrl: optional(env.KEYLEDGER_PG_URL),
  esdbUrl: optional(env.KEYLEDGER_ESDB_URL),
  custodian: oneOf('KEYLEDGER_CUSTODIAN', env.KEYLEDGER_CUSTODIAN, ['software', 'pkcs11', 'aws-kms'] as const, 'software'),
  pkcs11Module: optional(env.KEYLEDGER_PKCS11_MODULE),
  pkcs11TokenLabel: optional(env.KEYLEDGER_PKCS11_TOKEN_LABEL),
  pkcs11PinFile: optional(env.KEYLEDGER_PKCS11_PIN_FILE),
  awsKmsEndpoint: optional(env.KEYLEDGER_AWS_KMS_ENDPOINT),
  pkcs11Sessions: integer('KEYLEDGER_PKCS11_SESSIONS', env.KEYLEDGER_PKCS11_SESSIONS, 4, 1, 64),
  dekCacheTtlMs: integer('KEYLEDGER_DEK_CACHE_TTL_MS', env.KEYLEDGER_DEK_CACHE_TTL_MS, 30_000, 0, 3_600_000),
  dekCacheMaxUses: integer('KEYLEDGER_DEK_CACHE_MAX_USES', env.KEYLEDGER_DEK_CACHE_MAX_USES, 1000, 1, 1_000_000),
  rewrapPauseMs: integer('KEYLEDGER_REWRAP_PAUSE_MS', env.KEYLEDGER_REWRAP_PAUSE_MS, 0, 0, 60_000),
  awsKmsPendingWindowDays: integer('KEYLEDGER_AWS_KMS_PENDING_WINDOW_DAYS', env.KEYLEDGER_AWS_KMS_PENDING_WINDOW_DAYS, 7, 7, 30),
  destructionWaitMinDays: integer('KEYLEDGER_DESTRUCTION_WAIT_MIN_DAYS', env.KEYLEDGER_DESTRUCTION_WAIT_MIN_DAYS, 7, 0, 7),
  approvalsRequired: approvalClasses(env),
  approvalTtlHours: integer('KEYLEDGER_APPROVAL_TTL_HOURS', env.KEYLEDGER_APPROVAL_TTL_HOURS, 24, 1, 168),
  schedulerIntervalMs: integer('KEYLEDGER_SCHEDULER_INTERVAL_MS', env.KEYLEDGER_SCHEDULER_INTERVAL_MS, 60_000, 0, 86_400_000),
  autoRotate: purposes('KEYLEDGER_AUTO_ROTATE', env.KEYLEDGER_AUTO_ROTATE),
  bodyLimitBytes: integer('KEYLEDGER_BODY_LIMIT_BYTES', env.KEYLEDGER_BODY_LIMIT_BYTES, 64 * 1024, 1024, 1024 * 1024),
  logLevel: oneOf('KEYLEDGER_LOG_LEVEL', env.KEYLEDGER_LOG_LEVEL, ['debug', 'info', 'warn', 'error', 'silent'] as const, 'info'),
  checkpointEvery: integer('KEYLEDGER_CHECKPOINT_EVERY', env.KEYLEDGER_CHECKPOINT_EVERY, 1000, 1, 10_000),
  checkpointIntervalMs: integer('KEYLEDGER_CHECKPOINT_INTERVAL_MS', env.KEYLEDGER_CHECKPOINT_INTERVAL_MS, 60_000, 100, 86_400_000),
});
