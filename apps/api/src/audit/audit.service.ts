import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { EVENT_STORE } from '@keyledger/application';
import {
  AuditSealer,
  exportBundle,
  publicKeyPem,
  resolveRange,
  TrustedKeys,
  verifyStore,
  type CheckpointSigner,
  type ExpectedCheckpoint,
  type ExportResult,
  type RangeBound,
  type VerifyReport,
} from '@keyledger/audit';
import type { EventStore } from '@keyledger/event-store';
import { JsonLogger } from '../observability/logger.js';
import { AUDIT_SETTINGS, type AuditSettings } from './audit.settings.js';

/**
 * The audit side of a running engine: the sealer that writes signed checkpoints while the server
 * runs (and one last at shutdown, after the HTTP server stopped taking requests), and the verify
 * and export operations over the same store and key.
 */
@Injectable()
export class AuditService implements OnModuleInit, OnApplicationShutdown {
  private signer: CheckpointSigner | null = null;
  private sealer: AuditSealer | null = null;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(AUDIT_SETTINGS) private readonly settings: AuditSettings,
    private readonly logger: JsonLogger,
  ) {}

  async onModuleInit(): Promise<void> {
    this.signer = await this.settings.openSigner({ log: (message) => this.logger.event('info', message) });
    this.logger.event('info', 'audit signer opened', { signer: this.signer.label, keyId: this.signer.keyId });
    this.sealer = new AuditSealer({
      store: this.store,
      signer: this.signer,
      checkpointEvery: this.settings.checkpointEvery,
      checkpointIntervalMs: this.settings.checkpointIntervalMs,
      logger: this.logger,
    });
    await this.sealer.start();
    this.logger.event('info', 'audit sealer started', { ...this.sealer.status() });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.sealer?.stop();
    await this.signer?.close();
  }

  verify(expectedCheckpoint?: ExpectedCheckpoint): Promise<VerifyReport> {
    return verifyStore(this.store, new TrustedKeys([this.activeSigner().publicKey]), expectedCheckpoint ? { expectedCheckpoint } : {});
  }

  /** Seals what is pending first, so that the bundle covers the log up to this request. */
  async export(directory: string, from?: RangeBound, to?: RangeBound): Promise<ExportResult> {
    const range = await resolveRange(this.store, from, to);
    await this.activeSealer().sealNow();
    return exportBundle(this.store, directory, { ...range, signer: this.activeSigner() });
  }

  publicKey(): { algorithm: 'Ed25519'; keyId: string; publicKeyPem: string } {
    const signer = this.activeSigner();
    return { algorithm: signer.algorithm, keyId: signer.keyId, publicKeyPem: publicKeyPem(signer.publicKey) };
  }

  private activeSigner(): CheckpointSigner {
    if (!this.signer) throw new Error('The audit signer is not open yet');
    return this.signer;
  }

  private activeSealer(): AuditSealer {
    if (!this.sealer) throw new Error('The audit sealer is not running');
    return this.sealer;
  }
}
