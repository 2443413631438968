/// <reference types="jest" />
// The reference above: the build tsconfig loads only node types, and this file is not a spec.
/**
 * The contract every KeyCustodian adapter must satisfy. Spec files import it by relative path
 * (it is deliberately not exported from index.ts, so production code never pulls in jest).
 */
import { Buffer } from 'node:buffer';
import { constants, createHmac, generateKeyPairSync, privateDecrypt, randomUUID } from 'node:crypto';
import {
  CrossTenantWrapError,
  DecryptionFailedError,
  InvalidRecipientKeyError,
  MaterialNotFoundError,
  type GenerateKeyRequest,
  type KeyCustodian,
} from './port.js';

export interface CustodianFixture {
  readonly custodian: KeyCustodian;
  readonly cleanup: () => Promise<void>;
}

/** Deliberately not imported from the library: a changed label must break this suite. */
const CHECK_VALUE_LABEL = 'keyledger/key-check-value/v1';

/** A registered recipient's RSA-OAEP-256 transport key pair, as a platform service would hold it. */
export interface TestRecipient {
  readonly publicKeyPem: string;
  /** The key's raw bytes, obtained the way the recipient would: wrapForRecipient, then unwrap. */
  reveal(custodian: KeyCustodian, materialRef: string): Promise<Buffer>;
}

export function makeTestRecipient(): TestRecipient {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 3072 });
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return {
    publicKeyPem,
    async reveal(custodian, materialRef) {
      const wrapped = await custodian.wrapForRecipient(materialRef, publicKeyPem);
      const oaep = { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' };
      return privateDecrypt(oaep, wrapped);
    },
  };
}

export function checkValueOf(key: Buffer): string {
  return createHmac('sha256', key).update(CHECK_VALUE_LABEL).digest().subarray(0, 16).toString('hex');
}

export function keyRequest(overrides: Partial<GenerateKeyRequest> = {}): GenerateKeyRequest {
  const defaults = { keyId: `key-${randomUUID()}`, version: 1, tenantId: 'tenant-a', wrappingRef: null };
  return { ...defaults, purpose: 'dek', ...overrides };
}

async function caught(action: () => Promise<unknown>): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  throw new Error('expected the action to fail, and it succeeded');
}

export function custodianContract(name: string, makeCustodian: () => Promise<CustodianFixture>): void {
  describe(`KeyCustodian contract: ${name}`, () => {
    let fixture: CustodianFixture;
    let custodian: KeyCustodian;
    let recipient: TestRecipient;
    const revealMaterial = (materialRef: string) => recipient.reveal(custodian, materialRef);

    beforeAll(async () => {
      recipient = makeTestRecipient();
      fixture = await makeCustodian();
      custodian = fixture.custodian;
    });
    afterAll(async () => {
      await fixture?.cleanup();
    });

    describe('health', () => {
      it('reports its own kind', () => {
        expect(custodian.health().custodian).toBe(custodian.kind);
        expect(typeof custodian.health().fipsValidated).toBe('boolean');
      });
    });

    describe('generateKey', () => {
      it('gives distinct refs and 32-hex-digit fingerprints that match the material', async () => {
        const first = await custodian.generateKey(keyRequest());
        const second = await custodian.generateKey(keyRequest());

        expect(first.materialRef).not.toBe(second.materialRef);
        expect(first.fingerprint).toMatch(/^[0-9a-f]{32}$/);
        expect(second.fingerprint).toMatch(/^[0-9a-f]{32}$/);
        expect(first.fingerprint).not.toBe(second.fingerprint);
        expect(await custodian.exists(first.materialRef)).toBe(true);
      });

      it('refuses an unknown wrappingRef', async () => {
        const error = await caught(() => custodian.generateKey(keyRequest({ wrappingRef: 'no-such-ref' })));
        expect(error).toBeInstanceOf(MaterialNotFoundError);
        expect((error as MaterialNotFoundError).code).toBe('CUSTODY.MATERIAL_NOT_FOUND');
      });

      it('generates a DEK under a KEK, and the DEK works', async () => {
        const kek = await custodian.generateKey(keyRequest({ purpose: 'kek' }));
        const dek = await custodian.generateKey(keyRequest({ purpose: 'dek', wrappingRef: kek.materialRef }));
        const aad = Buffer.from('tenant-a');

        const ciphertext = await custodian.encrypt(dek.materialRef, Buffer.from('phi record'), aad);

        expect((await custodian.decrypt(dek.materialRef, ciphertext, aad)).toString()).toBe('phi record');
        expect(checkValueOf(await revealMaterial(dek.materialRef))).toBe(dek.fingerprint);
      });
    });

    describe('encrypt and decrypt', () => {
      const plaintext = Buffer.from('{"mrn":"12345","dx":"F32.1"}');
      const aad = Buffer.from('{"tenant":"a"}');

      it('round-trips with associated data', async () => {
        const { materialRef } = await custodian.generateKey(keyRequest());
        const ciphertext = await custodian.encrypt(materialRef, plaintext, aad);

        expect(ciphertext.includes(plaintext)).toBe(false);
        expect(await custodian.decrypt(materialRef, ciphertext, aad)).toEqual(plaintext);
      });

      it('fails with DecryptionFailedError under other associated data', async () => {
        const { materialRef } = await custodian.generateKey(keyRequest());
        const ciphertext = await custodian.encrypt(materialRef, plaintext, aad);

        const error = await caught(() => custodian.decrypt(materialRef, ciphertext, Buffer.from('{"tenant":"b"}')));
        expect(error).toBeInstanceOf(DecryptionFailedError);
        expect((error as DecryptionFailedError).code).toBe('CUSTODY.DECRYPTION_FAILED');
      });

      it('fails with DecryptionFailedError on any tampered byte, or a truncated ciphertext', async () => {
        const { materialRef } = await custodian.generateKey(keyRequest());
        const ciphertext = await custodian.encrypt(materialRef, plaintext, aad);

        for (const index of [0, 12, ciphertext.length - 1]) {
          const tampered = Buffer.from(ciphertext);
          tampered[index] = tampered[index]! ^ 0x01;
          await expect(custodian.decrypt(materialRef, tampered, aad)).rejects.toBeInstanceOf(DecryptionFailedError);
        }
        await expect(custodian.decrypt(materialRef, ciphertext.subarray(0, 10), aad)).rejects.toBeInstanceOf(
          DecryptionFailedError,
        );
      });

      it('fails with DecryptionFailedError under another key', async () => {
        const one = await custodian.generateKey(keyRequest());
        const other = await custodian.generateKey(keyRequest());
        const ciphertext = await custodian.encrypt(one.materialRef, plaintext, aad);

        await expect(custodian.decrypt(other.materialRef, ciphertext, aad)).rejects.toBeInstanceOf(
          DecryptionFailedError,
        );
      });

      it('refuses an unknown ref with MaterialNotFoundError', async () => {
        await expect(custodian.encrypt('no-such-ref', plaintext, aad)).rejects.toBeInstanceOf(MaterialNotFoundError);
      });
    });

    describe('data keys and re-encryption', () => {
      const aad = Buffer.from('{"keyId":"k","version":1}');

      it('generates a 32-byte data key whose sealed form opens under the same key and context only', async () => {
        const kek = await custodian.generateKey(keyRequest({ purpose: 'kek' }));

        const dataKey = await custodian.generateDataKey(kek.materialRef, aad);

        expect(dataKey.plaintext).toHaveLength(32);
        expect(dataKey.sealed.includes(dataKey.plaintext)).toBe(false);
        expect(await custodian.decrypt(kek.materialRef, dataKey.sealed, aad)).toEqual(dataKey.plaintext);
        await expect(custodian.decrypt(kek.materialRef, dataKey.sealed, Buffer.from('other'))).rejects.toBeInstanceOf(
          DecryptionFailedError,
        );
      });

      it('gives a different data key each time', async () => {
        const kek = await custodian.generateKey(keyRequest({ purpose: 'kek' }));
        const first = await custodian.generateDataKey(kek.materialRef, aad);
        const second = await custodian.generateDataKey(kek.materialRef, aad);
        expect(first.plaintext.equals(second.plaintext)).toBe(false);
      });

      it('re-encrypts from one key to another: the result opens under the new key and context only', async () => {
        const from = await custodian.generateKey(keyRequest({ purpose: 'kek' }));
        const to = await custodian.generateKey(keyRequest({ purpose: 'kek' }));
        const ciphertext = await custodian.encrypt(from.materialRef, Buffer.from('claim 42'), aad);
        const newAad = Buffer.from('{"keyId":"k","version":2}');

        const moved = await custodian.reencrypt(ciphertext, { materialRef: from.materialRef, aad }, { materialRef: to.materialRef, aad: newAad });

        expect((await custodian.decrypt(to.materialRef, moved, newAad)).toString()).toBe('claim 42');
        await expect(custodian.decrypt(from.materialRef, moved, newAad)).rejects.toBeInstanceOf(DecryptionFailedError);
      });

      it('refuses to re-encrypt a ciphertext that does not open under the source', async () => {
        const from = await custodian.generateKey(keyRequest({ purpose: 'kek' }));
        const to = await custodian.generateKey(keyRequest({ purpose: 'kek' }));
        const ciphertext = await custodian.encrypt(from.materialRef, Buffer.from('x'), aad);

        await expect(
          custodian.reencrypt(ciphertext, { materialRef: from.materialRef, aad: Buffer.from('wrong') }, { materialRef: to.materialRef, aad }),
        ).rejects.toBeInstanceOf(DecryptionFailedError);
      });
    });

    describe('rewrapMaterial', () => {
      const aad = Buffer.from('ctx');

      it('moves a DEK under a new KEK of its tenant: same handle, same key, older KEK no longer needed', async () => {
        const oldKek = await custodian.generateKey(keyRequest({ purpose: 'kek' }));
        const newKek = await custodian.generateKey(keyRequest({ purpose: 'kek' }));
        const dek = await custodian.generateKey(keyRequest({ wrappingRef: oldKek.materialRef }));
        const ciphertext = await custodian.encrypt(dek.materialRef, Buffer.from('record'), aad);
        expect(await custodian.wrappingOf(dek.materialRef)).toBe(oldKek.materialRef);

        const outcome = await custodian.rewrapMaterial(dek.materialRef, newKek.materialRef);

        expect(outcome).toEqual({ materialRef: dek.materialRef, wrappingRef: newKek.materialRef, changed: true });
        expect(await custodian.wrappingOf(dek.materialRef)).toBe(newKek.materialRef);
        await custodian.destroy(oldKek.materialRef);
        expect((await custodian.decrypt(dek.materialRef, ciphertext, aad)).toString()).toBe('record');
        expect(checkValueOf(await revealMaterial(dek.materialRef))).toBe(dek.fingerprint);
      });

      it('is idempotent: a second rewrap to the same KEK changes nothing', async () => {
        const oldKek = await custodian.generateKey(keyRequest({ purpose: 'kek' }));
        const newKek = await custodian.generateKey(keyRequest({ purpose: 'kek' }));
        const dek = await custodian.generateKey(keyRequest({ wrappingRef: oldKek.materialRef }));
        await custodian.rewrapMaterial(dek.materialRef, newKek.materialRef);

        const again = await custodian.rewrapMaterial(dek.materialRef, newKek.materialRef);

        expect(again.changed).toBe(false);
        expect(await custodian.wrappingOf(dek.materialRef)).toBe(newKek.materialRef);
      });

      it("refuses another tenant's KEK, both at generation and at rewrap", async () => {
        const kekA = await custodian.generateKey(keyRequest({ purpose: 'kek', tenantId: 'tenant-a' }));
        const kekB = await custodian.generateKey(keyRequest({ purpose: 'kek', tenantId: 'tenant-b' }));
        const dekA = await custodian.generateKey(keyRequest({ tenantId: 'tenant-a', wrappingRef: kekA.materialRef }));

        const atGeneration = await caught(() => custodian.generateKey(keyRequest({ tenantId: 'tenant-a', wrappingRef: kekB.materialRef })));
        const atRewrap = await caught(() => custodian.rewrapMaterial(dekA.materialRef, kekB.materialRef));

        expect(atGeneration).toBeInstanceOf(CrossTenantWrapError);
        expect((atGeneration as CrossTenantWrapError).code).toBe('CUSTODY.CROSS_TENANT_WRAP');
        expect(atRewrap).toBeInstanceOf(CrossTenantWrapError);
        expect(await custodian.wrappingOf(dekA.materialRef)).toBe(kekA.materialRef);
      });

      it('lets a root, a platform key, wrap the KEK of any tenant', async () => {
        const root = await custodian.generateKey(keyRequest({ purpose: 'root', tenantId: 'platform' }));
        const kek = await custodian.generateKey(keyRequest({ purpose: 'kek', tenantId: 'tenant-b', wrappingRef: root.materialRef }));
        expect(await custodian.wrappingOf(kek.materialRef)).toBe(root.materialRef);
      });

      it('refuses unknown handles with MaterialNotFoundError', async () => {
        const kek = await custodian.generateKey(keyRequest({ purpose: 'kek' }));
        await expect(custodian.rewrapMaterial('no-such-ref', kek.materialRef)).rejects.toBeInstanceOf(MaterialNotFoundError);
        expect(await custodian.wrappingOf('no-such-ref')).toBeUndefined();
      });
    });

    describe('wrapForRecipient', () => {
      it('wraps 32 bytes of material whose check value is the fingerprint', async () => {
        const generated = await custodian.generateKey(keyRequest());

        const material = await revealMaterial(generated.materialRef);

        expect(material).toHaveLength(32);
        expect(checkValueOf(material)).toBe(generated.fingerprint);
      });

      it('refuses a non-RSA recipient key', async () => {
        const { materialRef } = await custodian.generateKey(keyRequest());
        const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' });

        const error = await caught(() => custodian.wrapForRecipient(materialRef, ec.toString()));
        expect(error).toBeInstanceOf(InvalidRecipientKeyError);
        expect((error as InvalidRecipientKeyError).code).toBe('CUSTODY.INVALID_RECIPIENT_KEY');
      });

      it('refuses an RSA recipient key under 2048 bits', async () => {
        const { materialRef } = await custodian.generateKey(keyRequest());
        const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
        const weak = publicKey.export({ type: 'spki', format: 'pem' });

        await expect(custodian.wrapForRecipient(materialRef, weak.toString())).rejects.toBeInstanceOf(
          InvalidRecipientKeyError,
        );
      });

      it('refuses text that is not a public key', async () => {
        const { materialRef } = await custodian.generateKey(keyRequest());
        await expect(custodian.wrapForRecipient(materialRef, 'not a key')).rejects.toBeInstanceOf(
          InvalidRecipientKeyError,
        );
      });
    });

    describe('destroy', () => {
      it('erases the material and returns evidence that it is verified absent', async () => {
        const { materialRef } = await custodian.generateKey(keyRequest());

        const evidence = await custodian.destroy(materialRef);

        expect(evidence).toEqual(
          expect.objectContaining({ custodian: custodian.kind, materialRef, verifiedAbsent: true }),
        );
        expect(evidence.method).not.toBe('');
        expect(evidence.verification).not.toBe('');
        expect(await custodian.exists(materialRef)).toBe(false);
      });

      it('makes the material unusable forever', async () => {
        const { materialRef } = await custodian.generateKey(keyRequest());
        const aad = Buffer.from('ctx');
        const ciphertext = await custodian.encrypt(materialRef, Buffer.from('secret'), aad);

        await custodian.destroy(materialRef);

        await expect(custodian.decrypt(materialRef, ciphertext, aad)).rejects.toBeInstanceOf(MaterialNotFoundError);
        await expect(custodian.encrypt(materialRef, Buffer.from('x'), aad)).rejects.toBeInstanceOf(
          MaterialNotFoundError,
        );
        await expect(revealMaterial(materialRef)).rejects.toBeInstanceOf(MaterialNotFoundError);
      });

      it('is idempotent: a second destroy still returns verified evidence', async () => {
        const { materialRef } = await custodian.generateKey(keyRequest());
        await custodian.destroy(materialRef);

        const again = await custodian.destroy(materialRef);

        expect(again).toEqual(expect.objectContaining({ materialRef, verifiedAbsent: true }));
      });

      it('leaves other material untouched', async () => {
        const kept = await custodian.generateKey(keyRequest());
        const destroyed = await custodian.generateKey(keyRequest());

        await custodian.destroy(destroyed.materialRef);

        expect(await custodian.exists(kept.materialRef)).toBe(true);
        expect(checkValueOf(await revealMaterial(kept.materialRef))).toBe(kept.fingerprint);
      });
    });

    describe('errors', () => {
      it('never carry the key bytes, in hex or base64', async () => {
        const { materialRef } = await custodian.generateKey(keyRequest());
        const material = await revealMaterial(materialRef);
        const aad = Buffer.from('right');
        const ciphertext = await custodian.encrypt(materialRef, Buffer.from('payload'), aad);
        const tampered = Buffer.from(ciphertext);
        tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 0xff;

        const errors = [
          await caught(() => custodian.decrypt(materialRef, ciphertext, Buffer.from('wrong'))),
          await caught(() => custodian.decrypt(materialRef, tampered, aad)),
          await caught(() => custodian.wrapForRecipient(materialRef, 'not a key')),
          await caught(() => custodian.generateKey(keyRequest({ wrappingRef: 'no-such-ref' }))),
        ];
        await custodian.destroy(materialRef);
        errors.push(await caught(() => custodian.decrypt(materialRef, ciphertext, aad)));

        for (const error of errors) {
          const text = describeError(error);
          expect(text).not.toContain(material.toString('hex'));
          expect(text).not.toContain(material.toString('base64'));
          expect(text).not.toContain(material.toString('base64url'));
          expect(text).not.toContain(material.toString('latin1'));
        }
      });
    });
  });
}

/** Everything an error would show in a log: message, stack, own properties and its cause chain. */
function describeError(error: unknown): string {
  // Duck-typed: errors raised inside node's own modules are not `instanceof Error` under jest.
  if (typeof error !== 'object' || error === null) return String(error);
  const { message, stack, cause } = error as { message?: unknown; stack?: unknown; cause?: unknown };
  const own = JSON.stringify(error, (_key, value: unknown) =>
    isSerializedBuffer(value) ? Buffer.from(value.data).toString('hex') : value,
  );
  const causeText = cause === undefined ? '' : describeError(cause);
  return [String(message), String(stack), own, causeText].join('\n');
}

function isSerializedBuffer(value: unknown): value is { type: 'Buffer'; data: number[] } {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'Buffer';
}
