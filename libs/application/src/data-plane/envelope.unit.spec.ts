import fc from 'fast-check';
import { InvalidInputError } from '@keyledger/domain';
import { envelopeAad, envelopeHeader, openEnvelope, sealEnvelope } from './envelope.js';

describe('the ciphertext envelope', () => {
  const sealed = Buffer.from('custodian ciphertext');

  it('lays out the documented header: "KL", format 1, kind, uint32 version, id length, id', () => {
    const header = envelopeHeader('data-key', 'kek-7', 258);
    expect(header.toString('hex')).toBe(`4b4c0102${'00000102'}05${Buffer.from('kek-7').toString('hex')}`);
  });

  it('round-trips key id, version and kind for any id and version', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9._:-]{1,128}$/), fc.integer({ min: 1, max: 1_000_000 }), fc.constantFrom('ciphertext' as const, 'data-key' as const), (keyId, version, kind) => {
        const opened = openEnvelope(sealEnvelope(envelopeHeader(kind, keyId, version), sealed), kind, 'ciphertext');
        expect(opened).toMatchObject({ kind, keyId, version, sealed });
      }),
    );
  });

  it('refuses another kind, another format, a foreign blob, and a truncated one, as the caller\'s input error', () => {
    const blob = sealEnvelope(envelopeHeader('ciphertext', 'k', 1), sealed);
    const otherFormat = Buffer.from(blob);
    otherFormat[2] = 2;
    for (const [bytes, kind] of [
      [blob, 'data-key'],
      [otherFormat, 'ciphertext'],
      [Buffer.from('not an envelope at all'), 'ciphertext'],
      [blob.subarray(0, 10), 'ciphertext'],
    ] as const) {
      expect(() => openEnvelope(bytes, kind, 'ciphertext')).toThrow(InvalidInputError);
    }
  });

  it('binds the context in canonical form: key order does not matter, any change does', () => {
    const header = envelopeHeader('ciphertext', 'k', 1);
    expect(envelopeAad(header, { b: '2', a: '1' })).toEqual(envelopeAad(header, { a: '1', b: '2' }));
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.string()), fc.string(), fc.string(), (context, key, value) => {
        fc.pre(context[key] !== value);
        expect(envelopeAad(header, { ...context, [key]: value }).equals(envelopeAad(header, context))).toBe(false);
      }),
    );
  });

  it('binds the header: the same context under another version or kind is other associated data', () => {
    const context = { a: '1' };
    const aad = envelopeAad(envelopeHeader('ciphertext', 'k', 1), context);
    expect(aad.equals(envelopeAad(envelopeHeader('ciphertext', 'k', 2), context))).toBe(false);
    expect(aad.equals(envelopeAad(envelopeHeader('data-key', 'k', 1), context))).toBe(false);
    expect(aad.equals(envelopeAad(envelopeHeader('ciphertext', 'k', 1), undefined))).toBe(false);
  });
});
