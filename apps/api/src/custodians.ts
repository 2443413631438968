import { join } from 'node:path';
import { MATERIAL_DB_FILE, SqliteMaterialStore, type CustodyLogger, type KeyCustodian, type MaterialCacheOptions, type MaterialStore } from '@keyledger/custody';
import { AwsKmsCustodian } from '@keyledger/custody-aws-kms';
import { Pkcs11Custodian, readPinFile } from '@keyledger/custody-pkcs11';
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
export const openPkcs11Custodian = async (config: KeyledgerConfig, setting: CustodianSetting): Promise<KeyCustodian> => {
  const { pkcs11Module, pkcs11TokenLabel, pkcs11PinFile } = config;
  if (!pkcs11Module || !pkcs11TokenLabel || !pkcs11PinFile) {
    throw new ConfigurationError(
      'KEYLEDGER_CUSTODIAN=pkcs11 needs KEYLEDGER_PKCS11_MODULE, KEYLEDGER_PKCS11_TOKEN_LABEL and KEYLEDGER_PKCS11_PIN_FILE',
    );
  }
  const pin = await readPinFile(pkcs11PinFile);
  return Pkcs11Custodian.open({
    modulePath: pkcs11Module,
    tokenLabel: pkcs11TokenLabel,
    pin,
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
