import { CeremonyError, InvalidInputError } from '../errors.js';

/**
 * Key ceremonies (SPEC §5): opened with a purpose and named witnesses, steps recorded, each
 * witness signs the transcript hash with Ed25519, and the ceremony closes only when every
 * witness's attestation verifies against the current transcript. Hashing and signature checks are
 * done by the application (crypto stays out of the domain); their results come in with commands.
 */
export interface Witness {
  readonly name: string;
  readonly publicKeyPem: string;
}

export interface CeremonyStep {
  readonly step: number;
  readonly description: string;
  /** A dual-control request this step carries out (its operation happens on the custodians' quorum). */
  readonly approval?: { readonly approvalId: string; readonly operation: string; readonly keyId: string | null } | undefined;
  readonly recordedBy: string;
  readonly recordedAt: string;
}

export interface Attestation {
  readonly witness: string;
  readonly transcriptHash: string;
  readonly signature: string;
  readonly attestedAt: string;
}

export type CeremonyEvent =
  | { type: 'CeremonyOpened'; data: { ceremonyId: string; purpose: string; keyId: string | null; witnesses: Witness[]; openedBy: string; openedAt: string } }
  | { type: 'CeremonyStepRecorded'; data: { ceremonyId: string } & CeremonyStep }
  | { type: 'CeremonyAttested'; data: { ceremonyId: string } & Attestation }
  | { type: 'CeremonyClosed'; data: { ceremonyId: string; purpose: string; keyId: string | null; transcriptHash: string; closedBy: string; closedAt: string; witnesses: string[] } };

export const CEREMONY_EVENT_TYPES = ['CeremonyOpened', 'CeremonyStepRecorded', 'CeremonyAttested', 'CeremonyClosed'] as const satisfies readonly CeremonyEvent['type'][];
export const isCeremonyEvent = (e: { type: string }): e is CeremonyEvent => (CEREMONY_EVENT_TYPES as readonly string[]).includes(e.type);

export interface Ceremony {
  readonly ceremonyId: string;
  readonly purpose: string;
  readonly keyId: string | null;
  readonly witnesses: readonly Witness[];
  readonly steps: readonly CeremonyStep[];
  readonly attestations: readonly Attestation[];
  readonly openedBy: string;
  readonly openedAt: string;
  readonly closedAt: string | null;
}

export type CeremonyState = { status: 'absent' } | { status: 'open' | 'closed'; ceremony: Ceremony };

export type CeremonyCommand =
  | { type: 'OpenCeremony'; data: { ceremonyId: string; purpose: string; keyId: string | null; witnesses: Witness[]; openedBy: string; now: string } }
  | { type: 'RecordStep'; data: { description: string; recordedBy: string; approval?: CeremonyStep['approval']; now: string } }
  /** `currentTranscriptHash` and `signatureValid` are computed by the application from the state. */
  | { type: 'Attest'; data: { witness: string; signature: string; currentTranscriptHash: string; signatureValid: boolean; now: string } }
  | { type: 'CloseCeremony'; data: { closedBy: string; currentTranscriptHash: string; now: string } };

/** The transcript every witness signs: purpose, witnesses and steps, nothing else. */
export const ceremonyTranscript = (c: Ceremony) => ({
  ceremonyId: c.ceremonyId,
  purpose: c.purpose,
  keyId: c.keyId,
  openedAt: c.openedAt,
  openedBy: c.openedBy,
  witnesses: c.witnesses.map((w) => ({ name: w.name, publicKeyPem: w.publicKeyPem })),
  steps: c.steps.map((s) => ({ step: s.step, description: s.description, recordedBy: s.recordedBy, recordedAt: s.recordedAt, ...(s.approval ? { approval: s.approval } : {}) })),
});

/** Witnesses whose latest attestation signs the current transcript. */
export const attestedWitnesses = (c: Ceremony, transcriptHash: string): string[] =>
  c.witnesses.map((w) => w.name).filter((name) => c.attestations.some((a) => a.witness === name && a.transcriptHash === transcriptHash));

export function decideCeremony(command: CeremonyCommand, state: CeremonyState): CeremonyEvent[] {
  if (command.type === 'OpenCeremony') {
    if (state.status !== 'absent') throw new CeremonyError('CEREMONY.CLOSED', `Ceremony ${command.data.ceremonyId} exists already`);
    const names = command.data.witnesses.map((w) => w.name);
    if (names.length === 0) throw new InvalidInputError('A ceremony needs at least one witness');
    if (new Set(names).size !== names.length) throw new InvalidInputError('Witness names must be distinct');
    const { now, ...rest } = command.data;
    return [{ type: 'CeremonyOpened', data: { ...rest, openedAt: now } }];
  }
  if (state.status === 'absent') throw new CeremonyError('CEREMONY.NOT_FOUND', 'No such ceremony');
  const c = state.ceremony;
  if (state.status === 'closed') throw new CeremonyError('CEREMONY.CLOSED', `Ceremony ${c.ceremonyId} is closed`);
  switch (command.type) {
    case 'RecordStep':
      return [
        {
          type: 'CeremonyStepRecorded',
          data: {
            ceremonyId: c.ceremonyId,
            step: c.steps.length + 1,
            description: command.data.description,
            recordedBy: command.data.recordedBy,
            recordedAt: command.data.now,
            ...(command.data.approval ? { approval: command.data.approval } : {}),
          },
        },
      ];
    case 'Attest': {
      const { witness, signature, currentTranscriptHash, signatureValid, now } = command.data;
      if (!c.witnesses.some((w) => w.name === witness)) throw new CeremonyError('CEREMONY.UNKNOWN_WITNESS', `${witness} is not a witness of this ceremony`);
      if (!signatureValid) {
        throw new CeremonyError('CEREMONY.BAD_SIGNATURE', `The signature of ${witness} does not verify over transcript ${currentTranscriptHash}`);
      }
      return [{ type: 'CeremonyAttested', data: { ceremonyId: c.ceremonyId, witness, signature, transcriptHash: currentTranscriptHash, attestedAt: now } }];
    }
    case 'CloseCeremony': {
      const attested = attestedWitnesses(c, command.data.currentTranscriptHash);
      const missing = c.witnesses.map((w) => w.name).filter((n) => !attested.includes(n));
      if (missing.length > 0) {
        throw new CeremonyError('CEREMONY.ATTESTATIONS_MISSING', `No valid attestation of the current transcript from: ${missing.join(', ')}`, { missing });
      }
      return [
        {
          type: 'CeremonyClosed',
          data: {
            ceremonyId: c.ceremonyId,
            purpose: c.purpose,
            keyId: c.keyId,
            transcriptHash: command.data.currentTranscriptHash,
            closedBy: command.data.closedBy,
            closedAt: command.data.now,
            witnesses: attested,
          },
        },
      ];
    }
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
}

export function evolveCeremony(state: CeremonyState, event: CeremonyEvent): CeremonyState {
  if (event.type === 'CeremonyOpened') {
    const { ceremonyId, purpose, keyId, witnesses, openedBy, openedAt } = event.data;
    return { status: 'open', ceremony: { ceremonyId, purpose, keyId, witnesses, openedBy, openedAt, steps: [], attestations: [], closedAt: null } };
  }
  if (state.status === 'absent') throw new Error(`${event.type} before CeremonyOpened`);
  const c = state.ceremony;
  switch (event.type) {
    case 'CeremonyStepRecorded': {
      const { ceremonyId: _id, ...step } = event.data;
      return { status: 'open', ceremony: { ...c, steps: [...c.steps, step] } };
    }
    case 'CeremonyAttested': {
      const { ceremonyId: _id, ...attestation } = event.data;
      return { status: 'open', ceremony: { ...c, attestations: [...c.attestations, attestation] } };
    }
    case 'CeremonyClosed':
      return { status: 'closed', ceremony: { ...c, closedAt: event.data.closedAt } };
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}

export const foldCeremony = (events: readonly CeremonyEvent[]): CeremonyState => events.reduce(evolveCeremony, { status: 'absent' });
