import type { KeyledgerConfig } from '../config.js';

/** What the audit sealer needs from the configuration. */
export interface AuditSettings {
  /** Where the software signing key lives (audit-signing.key). */
  readonly dataDir: string;
  readonly checkpointEvery: number;
  readonly checkpointIntervalMs: number;
}

export const AUDIT_SETTINGS = Symbol('AUDIT_SETTINGS');

export const auditSettingsOf = (config: KeyledgerConfig, dataDir: string): AuditSettings => ({
  dataDir,
  checkpointEvery: config.checkpointEvery,
  checkpointIntervalMs: config.checkpointIntervalMs,
});
