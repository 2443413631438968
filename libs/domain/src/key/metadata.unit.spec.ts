import { InvalidInputError } from '../errors.js';
import { decideKey, evolveKey, foldKey } from './decider.js';
import type { KeyEvent } from './events.js';

const NOW = '2026-12-01T10:00:00.000Z';
const generated: KeyEvent[] = decideKey(
  {
    type: 'GenerateKey',
    data: {
      keyId: 'k1', tenantId: 't1', purpose: 'kek', algorithm: 'AES-256', custodian: 'software', parent: null, label: null,
      classifications: ['ephi'], vendors: [], cryptoperiodDays: null, material: { materialRef: 'sw:1', fingerprint: 'f'.repeat(32) }, now: NOW,
    },
  },
  { status: 'absent' },
);

describe('key metadata', () => {
  it('replaces the classes and vendors given, keeps the others, and folds into the key', () => {
    const state = foldKey(generated);
    const events = decideKey({ type: 'UpdateKeyMetadata', data: { vendors: [{ name: 'aws-bedrock', mode: 'cmk', baaStatus: 'signed' }], now: NOW } }, state);
    expect(events).toEqual([
      { type: 'KeyMetadataUpdated', data: { keyId: 'k1', classifications: ['ephi'], vendors: [{ name: 'aws-bedrock', mode: 'cmk', baaStatus: 'signed' }], updatedAt: NOW } },
    ]);
    const after = events.reduce(evolveKey, state);
    expect(after.status === 'present' && after.key.vendors.map((v) => v.name)).toEqual(['aws-bedrock']);
    const classes = decideKey({ type: 'UpdateKeyMetadata', data: { classifications: ['pii', 'pii', 'payment'], now: NOW } }, after);
    expect(classes[0]!.data).toMatchObject({ classifications: ['pii', 'payment'], vendors: [{ name: 'aws-bedrock' }] });
  });

  it('refuses an empty change, unknown classes and a vendor listed twice', () => {
    const state = foldKey(generated);
    expect(() => decideKey({ type: 'UpdateKeyMetadata', data: { now: NOW } }, state)).toThrow(InvalidInputError);
    expect(() => decideKey({ type: 'UpdateKeyMetadata', data: { classifications: ['secret' as never], now: NOW } }, state)).toThrow(InvalidInputError);
    const twice = [{ name: 'openai', mode: 'zero-retention', baaStatus: 'signed' }, { name: 'openai', mode: 'none', baaStatus: 'none' }] as const;
    expect(() => decideKey({ type: 'UpdateKeyMetadata', data: { vendors: [...twice], now: NOW } }, state)).toThrow(InvalidInputError);
  });
});
