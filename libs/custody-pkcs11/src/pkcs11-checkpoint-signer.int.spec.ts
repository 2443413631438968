import { Buffer } from 'node:buffer';
import { createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pkcs11js from 'pkcs11js';
import { AuditSealer, CHECKPOINT_STREAM, keyIdOf, TrustedKeys, verifyEd25519, verifyStore } from '@keyledger/audit';
import { SqliteMaterialStore } from '@keyledger/custody';
import type { NewEvent } from '@keyledger/event-store';
import { SqliteEventStore } from '@keyledger/event-store-sqlite';
import { createSoftHsmToken, listTokenObjects, type SoftHsmToken } from '../test/softhsm-token.js';
import { AUDIT_SIGNING_KEY_LABEL, CKK_EC_EDWARDS, Pkcs11CheckpointSigner } from './pkcs11-checkpoint-signer.js';
import { Pkcs11Custodian } from './pkcs11-custodian.js';
import { ckrOf } from './pkcs11-errors.js';

const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
/** node:crypto's own verification, independent of the audit library's helpers. */
const nodeVerify = (publicKey: Buffer, message: Buffer, signature: Buffer): boolean =>
  verify(null, message, createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' }), signature);

const metadata = { actor: 'p-test', tenantId: 't', correlationId: 'c', causationId: null, idempotencyKey: null };
const events = (n: number, from: number): NewEvent[] =>
  Array.from({ length: n }, (_, i) => ({ type: 'KeyUsed', schemaVersion: 1, data: { n: from + i }, metadata }));

describe('Pkcs11CheckpointSigner on SoftHSM2', () => {
  let token: SoftHsmToken;
  let dir: string;
  const options = () => ({ modulePath: token.modulePath, tokenLabel: token.label, pin: token.pin });

  beforeEach(() => {
    token = createSoftHsmToken('audit-signer');
    dir = mkdtempSync(join(tmpdir(), 'keyledger-p11-signer-'));
  });
  afterEach(() => {
    token.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the key pair once on the token and finds the same one when reopened', async () => {
    expect(await Pkcs11CheckpointSigner.openExisting(options())).toBeNull();
    const logged: string[] = [];
    const first = await Pkcs11CheckpointSigner.open({ ...options(), logger: { log: (m) => logged.push(m) } });
    const { publicKey, keyId } = first;
    await first.close();
    expect(publicKey).toHaveLength(32);
    expect(keyId).toBe(keyIdOf(publicKey));
    expect(first.label).toContain(`token "${token.label}"`);
    expect(logged).toEqual([expect.stringContaining(`Created audit signing key`)]);

    const again = await Pkcs11CheckpointSigner.open(options());
    const existing = (await Pkcs11CheckpointSigner.openExisting(options()))!;
    try {
      expect(again.publicKey.equals(publicKey)).toBe(true);
      expect(again.keyId).toBe(keyId);
      expect(existing.keyId).toBe(keyId);
    } finally {
      await existing.close();
      await again.close();
    }
    // One pair, seen from another process: one private and one public key with our label.
    const objects = listTokenObjects(token);
    expect(objects.match(new RegExp(`label:\\s+${AUDIT_SIGNING_KEY_LABEL}`, 'g'))).toHaveLength(2);
  });

  it('signs in the token: Ed25519 signatures that node:crypto verifies, and nothing else', async () => {
    const signer = await Pkcs11CheckpointSigner.open(options());
    try {
      // An empty message is refused before it reaches the token (SoftHSM2 would keep the operation active).
      await expect(signer.sign(Buffer.alloc(0))).rejects.toMatchObject({ code: 'AUDIT.SIGNING_KEY_UNUSABLE' });
      const messages = [Buffer.from([0]), Buffer.from('checkpoint head'), Buffer.alloc(10_000, 7)];
      for (const message of messages) {
        const signature = await signer.sign(message);
        expect(signature).toHaveLength(64);
        expect(nodeVerify(signer.publicKey, message, signature)).toBe(true);
        expect(verifyEd25519(signer.publicKey, message, signature)).toBe(true);
        // Deterministic (RFC 8032): the same message signs the same.
        expect((await signer.sign(message)).equals(signature)).toBe(true);
        expect(nodeVerify(signer.publicKey, Buffer.concat([message, Buffer.from('x')]), signature)).toBe(false);
      }
      const parallel = await Promise.all(Array.from({ length: 8 }, (_, i) => signer.sign(Buffer.from(`m${i}`))));
      parallel.forEach((signature, i) => expect(nodeVerify(signer.publicKey, Buffer.from(`m${i}`), signature)).toBe(true));
    } finally {
      await signer.close();
    }
  });

  it('keeps the private key non-extractable: CKA_VALUE cannot be read', async () => {
    const signer = await Pkcs11CheckpointSigner.open(options());
    await signer.close();
    const module = new pkcs11js.PKCS11();
    module.load(token.modulePath);
    module.C_Initialize();
    try {
      const slot = module.C_GetSlotList(true).find((s) => module.C_GetTokenInfo(s).label.trim() === token.label)!;
      const session = module.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
      module.C_Login(session, pkcs11js.CKU_USER, token.pin);
      module.C_FindObjectsInit(session, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
        { type: pkcs11js.CKA_LABEL, value: AUDIT_SIGNING_KEY_LABEL },
      ]);
      const handles = module.C_FindObjects(session, 4);
      module.C_FindObjectsFinal(session);
      expect(handles).toHaveLength(1);
      const attributes = module.C_GetAttributeValue(session, handles[0]!, [
        { type: pkcs11js.CKA_KEY_TYPE },
        { type: pkcs11js.CKA_TOKEN },
        { type: pkcs11js.CKA_SENSITIVE },
        { type: pkcs11js.CKA_EXTRACTABLE },
        { type: pkcs11js.CKA_ALWAYS_SENSITIVE },
        { type: pkcs11js.CKA_NEVER_EXTRACTABLE },
      ]);
      const [keyType, ...flags] = attributes.map((a) => a.value);
      expect(Number(keyType!.readBigUInt64LE(0))).toBe(CKK_EC_EDWARDS);
      // CKA_TOKEN, CKA_SENSITIVE, CKA_EXTRACTABLE, CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE
      expect(flags.map((flag) => flag[0])).toEqual([1, 1, 0, 1, 1]);
      let failure: unknown;
      try {
        module.C_GetAttributeValue(session, handles[0]!, [{ type: pkcs11js.CKA_VALUE }]);
      } catch (error) {
        failure = error;
      }
      expect(ckrOf(failure)).toBe(0x11); // CKR_ATTRIBUTE_SENSITIVE
    } finally {
      module.C_Finalize();
    }
  });

  it('seals a log: checkpoints signed in the token pass verifyStore with its public key', async () => {
    const signer = await Pkcs11CheckpointSigner.open(options());
    const store = SqliteEventStore.open(join(dir, 'events.db'), { pollIntervalMs: 20 });
    try {
      await store.appendToStream('s-1', events(5, 0), 'no-stream');
      const sealer = new AuditSealer({ store, signer, checkpointEvery: 3, checkpointIntervalMs: 60_000, logger: { event: () => undefined } });
      await sealer.sealOnce();
      await store.appendToStream('s-2', events(4, 5), 'no-stream');
      await sealer.sealOnce();
      const checkpoints = await store.readStream(CHECKPOINT_STREAM);
      expect(checkpoints.length).toBeGreaterThanOrEqual(2);
      const report = await verifyStore(store, new TrustedKeys([signer.publicKey]));
      expect(report.failures).toEqual([]);
      expect(report).toMatchObject({ intact: true, unsealedEvents: 0, eventsChecked: 9 });
      expect(report.trustedKeyIds).toEqual([signer.keyId]);
      // Another key does not vouch for them.
      const other = await verifyStore(store, new TrustedKeys([Buffer.alloc(32, 1)]));
      expect(other.intact).toBe(false);
    } finally {
      await store.close();
      await signer.close();
    }
  });

  it("shares the custodian's module and sessions, and leaves the custodian usable after closing", async () => {
    const custodian = await Pkcs11Custodian.open({ ...options(), materialStore: SqliteMaterialStore.open(join(dir, 'key-material.db')) });
    try {
      const signer = await custodian.openCheckpointSigner();
      const message = Buffer.from('head');
      expect(nodeVerify(signer.publicKey, message, await signer.sign(message))).toBe(true);
      await signer.close();
      expect(await custodian.exists('p11:key:none')).toBe(false);
      const again = await custodian.openCheckpointSigner();
      expect(again.keyId).toBe(signer.keyId);
      await again.close();
    } finally {
      await custodian.close();
    }
    // The same key from a signer that opens the module itself (the CLI).
    const standalone = await Pkcs11CheckpointSigner.open(options());
    await standalone.close();
    const opened = await Pkcs11CheckpointSigner.open(options());
    try {
      expect(opened.publicKey).toHaveLength(32);
    } finally {
      await opened.close();
    }
  });
});
