import { Buffer } from 'node:buffer';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pkcs11js from 'pkcs11js';
import {
  CustodianAccessDeniedError,
  MaterialNotExtractableError,
  MaterialNotFoundError,
  SqliteMaterialStore,
} from '@keyledger/custody';
import { custodianContract, keyRequest, makeTestRecipient } from '../../custody/src/contract.js';
import { createSoftHsmToken, listTokenObjects, type SoftHsmToken } from '../test/softhsm-token.js';
import { ckrOf } from './pkcs11-errors.js';
import { Pkcs11Custodian } from './pkcs11-custodian.js';
import { SessionPool } from './session-pool.js';

const openOn = (token: SoftHsmToken, dataDir: string, extra: { sessions?: number; pin?: string } = {}) =>
  Pkcs11Custodian.open({
    modulePath: token.modulePath,
    tokenLabel: token.label,
    pin: extra.pin ?? token.pin,
    materialStore: SqliteMaterialStore.open(join(dataDir, 'key-material.db')),
    sessions: extra.sessions ?? 4,
  });

custodianContract('pkcs11 on SoftHSM2', async () => {
  const token = createSoftHsmToken('contract');
  const dataDir = mkdtempSync(join(tmpdir(), 'keyledger-p11-'));
  const custodian = await openOn(token, dataDir);
  return {
    custodian,
    cleanup: async () => {
      await custodian.close();
      token.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
});

describe('Pkcs11Custodian on SoftHSM2', () => {
  let token: SoftHsmToken;
  let dataDir: string;
  let custodian: Pkcs11Custodian;

  beforeEach(async () => {
    token = createSoftHsmToken('unit');
    dataDir = mkdtempSync(join(tmpdir(), 'keyledger-p11-'));
    custodian = await openOn(token, dataDir);
  });
  afterEach(async () => {
    await custodian.close();
    token.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Reads attributes of a token object through a session of our own, as an attacker with the PIN would. */
  const withRawSession = async <T>(work: (module: pkcs11js.PKCS11, session: Buffer) => T): Promise<T> => {
    await custodian.close();
    const module = new pkcs11js.PKCS11();
    module.load(token.modulePath);
    module.C_Initialize();
    try {
      const slot = module.C_GetSlotList(true).find((s) => module.C_GetTokenInfo(s).label.trim() === token.label)!;
      const session = module.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
      module.C_Login(session, pkcs11js.CKU_USER, token.pin);
      return work(module, session);
    } finally {
      module.C_Finalize();
      custodian = await openOn(token, dataDir);
    }
  };

  it('keeps roots and KEKs as non-extractable token objects: CKA_VALUE cannot be read, nor the key wrapped', async () => {
    const root = await custodian.generateKey(keyRequest({ purpose: 'root', tenantId: 'platform' }));
    const kek = await custodian.generateKey(keyRequest({ purpose: 'kek', wrappingRef: root.materialRef }));

    const outcomes = await withRawSession((module, session) =>
      [root.materialRef, kek.materialRef].map((ref) => {
        module.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_ID, value: Buffer.from(ref) }]);
        const [handle] = module.C_FindObjects(session, 2);
        module.C_FindObjectsFinal(session);
        const attributes = module.C_GetAttributeValue(session, handle!, [
          { type: pkcs11js.CKA_TOKEN },
          { type: pkcs11js.CKA_SENSITIVE },
          { type: pkcs11js.CKA_EXTRACTABLE },
        ]);
        const flags = attributes.map((a) => a.value[0]);
        const readValue = attempt(() => module.C_GetAttributeValue(session, handle!, [{ type: pkcs11js.CKA_VALUE }]));
        const wrapKey = module.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
          { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
          { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
          { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
          { type: pkcs11js.CKA_TOKEN, value: false },
          { type: pkcs11js.CKA_WRAP, value: true },
        ]);
        const wrap = attempt(() => module.C_WrapKey(session, { mechanism: 0x210a }, wrapKey, handle!, Buffer.alloc(64)));
        return { flags, readValue, wrap };
      }),
    );

    for (const outcome of outcomes) {
      expect(outcome.flags).toEqual([1, 1, 0]);
      expect(outcome.readValue).toBe(CKR_ATTRIBUTE_SENSITIVE);
      expect(outcome.wrap).toBe(CKR_KEY_UNEXTRACTABLE);
    }
  });

  it('refuses to hand out a KEK, which never leaves the token', async () => {
    const kek = await custodian.generateKey(keyRequest({ purpose: 'kek' }));
    await expect(custodian.wrapForRecipient(kek.materialRef, makeTestRecipient().publicKeyPem)).rejects.toBeInstanceOf(
      MaterialNotExtractableError,
    );
  });

  it('keeps DEKs out of the token: only the storage root, roots and KEKs are token objects', async () => {
    const kek = await custodian.generateKey(keyRequest({ purpose: 'kek' }));
    for (let i = 0; i < 5; i++) await custodian.generateKey(keyRequest({ wrappingRef: kek.materialRef }));

    const listing = listTokenObjects(token);

    expect(listing.match(/Secret Key Object/g)).toHaveLength(2);
    expect(listing).toContain(idHex(kek.materialRef));
    expect(listing).toMatch(/never extractable/);
  });

  it('destroys a KEK with C_DestroyObject and proves it with C_FindObjects, seen also from another process', async () => {
    const kek = await custodian.generateKey(keyRequest({ purpose: 'kek' }));
    expect(listTokenObjects(token)).toContain(idHex(kek.materialRef));

    const evidence = await custodian.destroy(kek.materialRef);

    expect(evidence).toMatchObject({ custodian: 'pkcs11', materialRef: kek.materialRef, verifiedAbsent: true });
    expect(evidence.method).toContain('C_DestroyObject');
    expect(evidence.verification).toContain('C_FindObjects');
    expect(listTokenObjects(token)).not.toContain(idHex(kek.materialRef));
  });

  it('crypto-shreds the DEKs still wrapped under a destroyed KEK', async () => {
    const kek = await custodian.generateKey(keyRequest({ purpose: 'kek' }));
    const dek = await custodian.generateKey(keyRequest({ wrappingRef: kek.materialRef }));
    const ciphertext = await custodian.encrypt(dek.materialRef, Buffer.from('phi'), Buffer.alloc(0));

    await custodian.destroy(kek.materialRef);

    await expect(custodian.decrypt(dek.materialRef, ciphertext, Buffer.alloc(0))).rejects.toBeInstanceOf(MaterialNotFoundError);
  });

  it('serves concurrent requests through its session pool, never more sessions than configured', async () => {
    await custodian.close();
    custodian = await openOn(token, dataDir, { sessions: 3 });
    const kek = await custodian.generateKey(keyRequest({ purpose: 'kek' }));
    const plaintexts = Array.from({ length: 60 }, (_, i) => Buffer.from(`record ${i}`));

    const ciphertexts = await Promise.all(plaintexts.map((p) => custodian.encrypt(kek.materialRef, p, Buffer.from('aad'))));
    const opened = await Promise.all(ciphertexts.map((c) => custodian.decrypt(kek.materialRef, c, Buffer.from('aad'))));

    expect(opened).toEqual(plaintexts);
    expect(custodian.openSessions).toBeGreaterThan(1);
    expect(custodian.openSessions).toBeLessThanOrEqual(3);
  });

  it('calls C_Finalize on close: the closed custodian refuses work, and the module initializes again in the same process', async () => {
    const kek = await custodian.generateKey(keyRequest({ purpose: 'kek' }));
    const ciphertext = await custodian.encrypt(kek.materialRef, Buffer.from('kept'), Buffer.alloc(0));
    const closed = custodian;
    await closed.close();

    const afterClose = await closed.encrypt(kek.materialRef, Buffer.from('x'), Buffer.alloc(0)).catch((e: unknown) => e);
    custodian = await openOn(token, dataDir);

    expect((afterClose as { code?: string }).code).toBe('CUSTODY.UNAVAILABLE');
    expect((await custodian.decrypt(kek.materialRef, ciphertext, Buffer.alloc(0))).toString()).toBe('kept');
  });

  it('refuses a wrong PIN with a typed error that does not contain the PIN', async () => {
    await custodian.close();
    const wrongPin = 'wrong-pin-0000';

    const error = await openOn(token, dataDir, { pin: wrongPin }).catch((e: unknown) => e);
    custodian = await openOn(token, dataDir);

    expect(error).toBeInstanceOf(CustodianAccessDeniedError);
    expect(String((error as Error).message)).toContain('CKR_PIN_INCORRECT');
    expect(JSON.stringify(error) + String((error as Error).stack)).not.toContain(wrongPin);
    expect(JSON.stringify(error) + String((error as Error).stack)).not.toContain(token.pin);
  });
});

describe('SessionPool recovery on SoftHSM2', () => {
  let token: SoftHsmToken;
  let module: pkcs11js.PKCS11;
  let slot: Buffer;

  beforeAll(() => {
    token = createSoftHsmToken('pool');
    module = new pkcs11js.PKCS11();
    module.load(token.modulePath);
    module.C_Initialize();
    slot = module.C_GetSlotList(true).find((s) => module.C_GetTokenInfo(s).label.trim() === token.label)!;
  });
  afterAll(() => {
    module.C_Finalize();
    token.cleanup();
  });

  it('after a token error that kills every session (and the login), opens and logs in a fresh one and succeeds', async () => {
    const pool = new SessionPool(module, slot, token.pin, 2);
    const random = () => pool.withSession((session) => module.C_GenerateRandom(session, Buffer.alloc(8)));
    await random();

    module.C_CloseAllSessions(slot);
    const direct = attempt(() => module.C_GenerateRandom(module.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION), Buffer.alloc(1)));

    await expect(random()).resolves.toHaveLength(8);
    expect(direct).toBe('ok');
    expect(pool.openSessions).toBe(1);
    pool.close();
  });

  it('answers CustodianUnavailable when the fresh session dies too, instead of retrying forever', async () => {
    const pool = new SessionPool(module, slot, token.pin, 1);
    let calls = 0;

    const error = await pool
      .withSession((session) => {
        calls += 1;
        module.C_CloseSession(session);
        return module.C_GenerateRandom(session, Buffer.alloc(8));
      })
      .catch((e: unknown) => e);

    expect(calls).toBe(2);
    expect((error as { code?: string }).code).toBe('CUSTODY.UNAVAILABLE');
    pool.close();
  });

  it('makes callers wait for a session when all are lent, then serves them in turn', async () => {
    const pool = new SessionPool(module, slot, token.pin, 1);
    const order: number[] = [];
    await Promise.all(
      [1, 2, 3].map((n) =>
        pool.withSession(async (session) => {
          order.push(n);
          await new Promise((resolve) => setTimeout(resolve, 5));
          return module.C_GenerateRandom(session, Buffer.alloc(4));
        }),
      ),
    );
    expect(order).toEqual([1, 2, 3]);
    expect(pool.openSessions).toBe(1);
    pool.close();
  });
});

const idHex = (ref: string): string => Buffer.from(ref).toString('hex');
const CKR_ATTRIBUTE_SENSITIVE = 0x11;
const CKR_KEY_UNEXTRACTABLE = 0x6a;

function attempt(action: () => unknown): number | 'ok' {
  try {
    action();
    return 'ok';
  } catch (error) {
    return ckrOf(error) ?? -1;
  }
}
