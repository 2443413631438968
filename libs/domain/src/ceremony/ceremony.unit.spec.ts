import { CeremonyError } from '../errors.js';
import { decideCeremony, foldCeremony, type CeremonyCommand, type CeremonyEvent } from './ceremony.js';

const T0 = '2026-12-01T10:00:00.000Z';
const opened: CeremonyEvent[] = decideCeremony(
  {
    type: 'OpenCeremony',
    data: { ceremonyId: 'c1', purpose: 'annual root rotation', keyId: null, witnesses: [{ name: 'w1', publicKeyPem: 'P1' }, { name: 'w2', publicKeyPem: 'P2' }], openedBy: 'admin', now: T0 },
  },
  { status: 'absent' },
);
const run = (events: CeremonyEvent[], command: CeremonyCommand) => [...events, ...decideCeremony(command, foldCeremony(events))];
const attest = (witness: string, hash: string, signatureValid = true): CeremonyCommand => ({
  type: 'Attest',
  data: { witness, signature: 'sig', currentTranscriptHash: hash, signatureValid, now: T0 },
});
const close = (hash: string): CeremonyCommand => ({ type: 'CloseCeremony', data: { closedBy: 'admin', currentTranscriptHash: hash, now: T0 } });
const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    if (error instanceof CeremonyError) return error.code;
    throw error;
  }
  throw new Error('expected a refusal');
};

describe('ceremony decider', () => {
  const withStep = run(opened, { type: 'RecordStep', data: { description: 'generate new root in HSM', recordedBy: 'admin', now: T0 } });

  it('numbers steps in order', () => {
    const two = run(withStep, { type: 'RecordStep', data: { description: 'back up', recordedBy: 'admin', now: T0 } });
    expect((foldCeremony(two) as any).ceremony.steps.map((s: any) => s.step)).toEqual([1, 2]);
  });

  it('closes when every witness attested the current transcript', () => {
    const attested = run(run(withStep, attest('w1', 'H1')), attest('w2', 'H1'));
    const closed = run(attested, close('H1'));
    expect(foldCeremony(closed).status).toBe('closed');
    expect(closed[closed.length - 1]).toMatchObject({ type: 'CeremonyClosed', data: { witnesses: ['w1', 'w2'], transcriptHash: 'H1' } });
  });

  it('blocks close while a witness is missing', () => {
    const partly = run(withStep, attest('w1', 'H1'));
    expect(codeOf(() => run(partly, close('H1')))).toBe('CEREMONY.ATTESTATIONS_MISSING');
  });

  it('blocks close when the transcript changed after the attestations', () => {
    const attested = run(run(withStep, attest('w1', 'H1')), attest('w2', 'H1'));
    expect(codeOf(() => run(attested, close('H2')))).toBe('CEREMONY.ATTESTATIONS_MISSING');
  });

  it('refuses a bad signature and an unknown witness', () => {
    expect(codeOf(() => run(withStep, attest('w1', 'H1', false)))).toBe('CEREMONY.BAD_SIGNATURE');
    expect(codeOf(() => run(withStep, attest('mallory', 'H1')))).toBe('CEREMONY.UNKNOWN_WITNESS');
  });

  it('refuses changes to a closed ceremony', () => {
    const closed = run(run(run(withStep, attest('w1', 'H1')), attest('w2', 'H1')), close('H1'));
    expect(codeOf(() => run(closed, { type: 'RecordStep', data: { description: 'late', recordedBy: 'admin', now: T0 } }))).toBe('CEREMONY.CLOSED');
  });
});
