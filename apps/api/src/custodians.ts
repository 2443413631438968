import { join } from 'node:path';
import { MATERIAL_DB_FILE, SqliteMaterialStore, type CustodyLogger, type KeyCustodian, type MaterialCacheOptions, type MaterialStore } from '@keyledger/custody';
import { AwsKmsCustodian } from '@keyledger/custody-aws-kms';
import { SoftwareCheckpointSigner, type CheckpointSigner } from '@keyledger/audit';
import { EddsaUnsupportedError, Pkcs11CheckpointSigner, Pkcs11Custodian, readPinFile } from '@keyledger/custody-pkcs11';
import { ConfigurationError, type KeyledgerConfig } from './config.js';

/** What every custodian is opened with: where its material rows go, its logger, its DEK cache. */
export interface CustodianSetting {
  readonly dataDir: string;
  readonly logger: CustodyLogger;
  /** The store's own material table (PostgreSQL) when there is one; the SQLite file in the data dir otherwise. */
  readonly materialStore: MaterialStore | undefined;
}

/** The custodians' few log lines (opening, creation, erasure) go to the JSON log. */
export const custodyLoggerOf = (logger: { event(level: 'info' | 'warn', message: string): void }): CustodyLogger => ({
  log: (message) => logger.event('info', message),
  warn: (message) => logger.event('warn', message),
});

export const dekCacheOf = (config: KeyledgerConfig): MaterialCacheOptions => ({
  ttlMs: config.dekCacheTtlMs,
  maxUses: config.dekCacheMaxUses,
  maxEntries: 10_000,
});

const materialStoreOf = ({ materialStore, dataDir }: CustodianSetting): MaterialStore =>
  materialStore ?? SqliteMaterialStore.open(join(dataDir, MATERIAL_DB_FILE));

/** KEYLEDGER_CUSTODIAN=pkcs11: the module, token label and PIN file must all be given. */
const pkcs11TokenOf = async (config: KeyledgerConfig): Promise<{ modulePath: string; tokenLabel: string; pin: string }> => {
  const { pkcs11Module, pkcs11TokenLabel, pkcs11PinFile } = config;
  if (!pkcs11Module || !pkcs11TokenLabel || !pkcs11PinFile) {
    throw new ConfigurationError(
      'KEYLEDGER_CUSTODIAN=pkcs11 needs KEYLEDGER_PKCS11_MODULE, KEYLEDGER_PKCS11_TOKEN_LABEL and KEYLEDGER_PKCS11_PIN_FILE',
    );
  }
  return { modulePath: pkcs11Module, tokenLabel: pkcs11TokenLabel, pin: await readPinFile(pkcs11PinFile) };
};

export const openPkcs11Custodian = async (config: KeyledgerConfig, setting: CustodianSetting): Promise<KeyCustodian> => {
  return Pkcs11Custodian.open({
    ...(await pkcs11TokenOf(config)),
    materialStore: materialStoreOf(setting),
    sessions: config.pkcs11Sessions,
    cache: dekCacheOf(config),
    logger: setting.logger,
  });
};

/**
 * KEYLEDGER_CUSTODIAN=aws-kms: region and credentials come the SDK's usual way (AWS_REGION,
 * AWS_PROFILE, instance roles…); KEYLEDGER_AWS_KMS_ENDPOINT points it at another endpoint
 * (a VPC endpoint, a FIPS endpoint, a local KMS-compatible service).
 */
export const openAwsKmsCustodian = async (config: KeyledgerConfig, setting: CustodianSetting): Promise<KeyCustodian> =>
  AwsKmsCustodian.open({
    ...(config.awsKmsEndpoint ? { endpoint: config.awsKmsEndpoint } : {}),
    materialStore: materialStoreOf(setting),
    pendingWindowDays: config.awsKmsPendingWindowDays,
    cache: dekCacheOf(config),
    logger: setting.logger,
  });

/**
 * The audit checkpoint signer the configured custodian holds. KEYLEDGER_CUSTODIAN=pkcs11: an
 * Ed25519 key pair on the token (non-extractable, CKM_EDDSA), through the running custodian's
 * sessions when there is one, else through a module opened for it (the CLI). A token without
 * Ed25519 falls back, with a warning, to the software key. Other custodians: the software key
 * `audit-signing.key` of the data dir. Created at first use either way.
 */
export const openAuditSigner = async (
  config: KeyledgerConfig,
  dataDir: string,
  options: { custodian?: KeyCustodian; logger?: { log(message: string): void } } = {},
): Promise<CheckpointSigner> => {
  if (config.custodian !== 'pkcs11') return SoftwareCheckpointSigner.open(dataDir, options.logger);
  const logger = options.logger ? { logger: options.logger } : {};
  try {
    if (options.custodian instanceof Pkcs11Custodian) return await options.custodian.openCheckpointSigner(logger);
    return await Pkcs11CheckpointSigner.open({ ...(await pkcs11TokenOf(config)), ...logger });
  } catch (error) {
    if (!(error instanceof EddsaUnsupportedError)) throw error;
    options.logger?.log(`WARNING: ${error.message}: the audit signing key stays in software (${dataDir}/audit-signing.key)`);
    return SoftwareCheckpointSigner.open(dataDir, options.logger);
  }
};

/** The configured audit signer if its key exists already, else null: for tools that must not mint keys. */
export const openExistingAuditSigner = async (config: KeyledgerConfig, dataDir: string): Promise<CheckpointSigner | null> => {
  if (config.custodian !== 'pkcs11') return SoftwareCheckpointSigner.openExisting(dataDir);
  try {
    return await Pkcs11CheckpointSigner.openExisting(await pkcs11TokenOf(config));
  } catch (error) {
    if (error instanceof EddsaUnsupportedError) return SoftwareCheckpointSigner.openExisting(dataDir);
    throw error;
  }
};
