import { createHash, createPublicKey, randomUUID, verify } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  CeremonyError,
  InvalidInputError,
  attestedWitnesses,
  canonicalJson,
  ceremonyTranscript,
  decideCeremony,
  evolveCeremony,
  foldCeremony,
  isCeremonyEvent,
  type Ceremony,
  type CeremonyCommand,
  type CeremonyEvent,
  type CeremonyState,
  type Witness,
} from '@keyledger/domain';
import type { EventStore } from '@keyledger/event-store';
import type { RequestContext } from '../shared/context.js';
import { metadataFor } from '../shared/metadata.js';
import { CLOCK, EVENT_STORE, type Clock } from '../shared/tokens.js';
import { Approvals } from './approvals.js';

export const ceremonyStream = (ceremonyId: string): string => `ceremony-${ceremonyId}`;

export interface CeremonyView extends Ceremony {
  id: string;
  state: 'open' | 'closed';
  /** Hex SHA-256 of the canonical transcript: what each witness signs (its 32 raw bytes). */
  transcriptHash: string;
  attestedBy: string[];
}

export const transcriptHashOf = (c: Ceremony): string =>
  createHash('sha256').update(canonicalJson(ceremonyTranscript(c)), 'utf8').digest('hex');

const ed25519 = (pem: string, name: string) => {
  try {
    const key = createPublicKey({ key: pem, format: 'pem' });
    if (key.asymmetricKeyType === 'ed25519') return key;
  } catch {
    // reported below
  }
  throw new InvalidInputError(`The public key of witness ${name} is not an Ed25519 PEM public key`, { witness: name });
};

/** Witnessed key ceremonies: the transcript is hashed and each signature verified here. */
@Injectable()
export class Ceremonies {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly approvals: Approvals,
  ) {}

  async open(input: { purpose: string; keyId: string | null; witnesses: Witness[] }, ctx: RequestContext): Promise<CeremonyView> {
    for (const w of input.witnesses) ed25519(w.publicKeyPem, w.name);
    const ceremonyId = randomUUID();
    return this.decideAndAppend(ceremonyId, ctx, { status: 'absent' }, -1, {
      type: 'OpenCeremony',
      data: { ceremonyId, ...input, openedBy: ctx.actor.principalId, now: this.now() },
    });
  }

  /** A step may carry a dual-control request: the transcript then names it, and witnesses sign that. */
  async recordStep(ceremonyId: string, description: string, ctx: RequestContext, approvalId?: string): Promise<CeremonyView> {
    const approval = approvalId === undefined ? undefined : await this.approvals.get(approvalId);
    return this.change(ceremonyId, ctx, () => ({
      type: 'RecordStep',
      data: {
        description,
        recordedBy: ctx.actor.principalId,
        ...(approval ? { approval: { approvalId: approval.id, operation: approval.operation, keyId: approval.keyId } } : {}),
        now: this.now(),
      },
    }));
  }

  attest(ceremonyId: string, witness: string, signature: string, ctx: RequestContext): Promise<CeremonyView> {
    return this.change(ceremonyId, ctx, (c) => {
      const currentTranscriptHash = transcriptHashOf(c);
      const known = c.witnesses.find((w) => w.name === witness);
      const signatureValid = known !== undefined && verifies(known.publicKeyPem, currentTranscriptHash, signature);
      return { type: 'Attest', data: { witness, signature, currentTranscriptHash, signatureValid, now: this.now() } };
    });
  }

  close(ceremonyId: string, ctx: RequestContext): Promise<CeremonyView> {
    return this.change(ceremonyId, ctx, (c) => ({
      type: 'CloseCeremony',
      data: { closedBy: ctx.actor.principalId, currentTranscriptHash: transcriptHashOf(c), now: this.now() },
    }));
  }

  async get(ceremonyId: string): Promise<CeremonyView> {
    return this.view((await this.load(ceremonyId)).state);
  }

  /** A command on an existing ceremony: an unknown id is "not found" before anything else. */
  private async change(ceremonyId: string, ctx: RequestContext, command: (c: Ceremony) => CeremonyCommand): Promise<CeremonyView> {
    const { state, revision } = await this.load(ceremonyId);
    if (state.status === 'absent') throw new CeremonyError('CEREMONY.NOT_FOUND', `No ceremony ${ceremonyId}`);
    return this.decideAndAppend(ceremonyId, ctx, state, revision, command(state.ceremony));
  }

  private async decideAndAppend(ceremonyId: string, ctx: RequestContext, state: CeremonyState, revision: number, command: CeremonyCommand): Promise<CeremonyView> {
    const events = decideCeremony(command, state);
    await this.store.appendToStream(
      ceremonyStream(ceremonyId),
      events.map((e) => ({ ...e, schemaVersion: 1, metadata: metadataFor(ctx, null) })),
      revision < 0 ? 'no-stream' : revision,
    );
    return this.view(events.reduce(evolveCeremony, state));
  }

  private async load(ceremonyId: string): Promise<{ state: CeremonyState; revision: number }> {
    const recorded = await this.store.readStream(ceremonyStream(ceremonyId));
    const events = recorded.filter(isCeremonyEvent).map((e) => ({ type: e.type, data: e.data }) as CeremonyEvent);
    return { state: foldCeremony(events), revision: recorded.length - 1 };
  }

  private view(state: CeremonyState): CeremonyView {
    if (state.status === 'absent') throw new CeremonyError('CEREMONY.NOT_FOUND', 'No such ceremony');
    const transcriptHash = transcriptHashOf(state.ceremony);
    return { ...state.ceremony, id: state.ceremony.ceremonyId, state: state.status, transcriptHash, attestedBy: attestedWitnesses(state.ceremony, transcriptHash) };
  }

  private now(): string {
    return this.clock.now().toISOString();
  }
}

const verifies = (publicKeyPem: string, transcriptHashHex: string, signatureBase64: string): boolean => {
  try {
    return verify(null, Buffer.from(transcriptHashHex, 'hex'), createPublicKey(publicKeyPem), Buffer.from(signatureBase64, 'base64'));
  } catch {
    return false;
  }
};
