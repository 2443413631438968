import type { CheckpointSigner } from '@keyledger/audit';
import type { KeyCustodian } from '@keyledger/custody';
import type { KeyledgerConfig } from '../config.js';
import { openAuditSigner } from '../custodians.js';

/** What the audit sealer needs from the configuration. */
export interface AuditSettings {
  /** Where the software signing key lives (audit-signing.key). */
  readonly dataDir: string;
  readonly checkpointEvery: number;
  readonly checkpointIntervalMs: number;
  /** Opens the checkpoint signer the configured custodian holds (software key file, or the PKCS#11 token). */
  readonly openSigner: (logger: { log(message: string): void }) => Promise<CheckpointSigner>;
}

export const AUDIT_SETTINGS = Symbol('AUDIT_SETTINGS');

/** `custodian` is the engine's open custodian: a PKCS#11 signer shares its module and sessions. */
export const auditSettingsOf = (config: KeyledgerConfig, dataDir: string, custodian?: KeyCustodian): AuditSettings => ({
  dataDir,
  checkpointEvery: config.checkpointEvery,
  checkpointIntervalMs: config.checkpointIntervalMs,
  openSigner: (logger) => openAuditSigner(config, dataDir, { ...(custodian ? { custodian } : {}), logger }),
});
