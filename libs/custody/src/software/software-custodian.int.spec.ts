import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { checkValueOf, custodianContract, keyRequest, makeTestRecipient } from '../contract.js';
import { CustodyOperationError, MaterialNotFoundError } from '../port.js';
import { MATERIAL_DB_FILE, ROOT_KEY_FILE, SoftwareCustodian } from './software-custodian.js';

const tempDataDir = () => mkdtemp(join(tmpdir(), 'keyledger-custody-'));

custodianContract('software', async () => {
  const dataDir = await tempDataDir();
  const custodian = await SoftwareCustodian.open({ dataDir });
  return {
    custodian,
    cleanup: async () => {
      await custodian.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
});

// The same contract with unwrapped DEKs cached: caching must change no outcome, destruction above all.
custodianContract('software, with a DEK cache', async () => {
  const dataDir = await tempDataDir();
  const custodian = await SoftwareCustodian.open({ dataDir, cache: { ttlMs: 60_000, maxUses: 1000, maxEntries: 100 } });
  return {
    custodian,
    cleanup: async () => {
      await custodian.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
});

/** Every file of the data directory (database, -wal, -shm, root key), read whole. */
async function readAllFiles(dataDir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const name of await readdir(dataDir)) {
    files.set(name, await readFile(join(dataDir, name)));
  }
  return files;
}

/** The files in which any encoding of `secret` appears. */
function filesContaining(files: Map<string, Buffer>, secret: Buffer): string[] {
  const needles = [secret, Buffer.from(secret.toString('hex')), Buffer.from(secret.toString('base64'))];
  return [...files].filter(([, content]) => needles.some((needle) => content.includes(needle))).map(([name]) => name);
}

/** Reads a stored row behind the custodian's back, as someone with the disk would. */
function readSealedBlob(dataDir: string, ref: string): Buffer {
  const db = new Database(join(dataDir, MATERIAL_DB_FILE), { readonly: true });
  try {
    const row = db.prepare<[string], { wrapped: Buffer }>('SELECT wrapped FROM material WHERE ref = ?').get(ref);
    if (row === undefined) throw new Error(`no row for ${ref}`);
    return row.wrapped;
  } finally {
    db.close();
  }
}

describe('SoftwareCustodian', () => {
  let dataDir: string;
  let opened: SoftwareCustodian[];
  const recipient = makeTestRecipient();

  const open = async (): Promise<SoftwareCustodian> => {
    const custodian = await SoftwareCustodian.open({ dataDir });
    opened.push(custodian);
    return custodian;
  };
  const closeAll = async (): Promise<void> => {
    await Promise.all(opened.map((custodian) => custodian.close()));
    opened = [];
  };

  beforeEach(async () => {
    dataDir = await tempDataDir();
    opened = [];
  });
  afterEach(async () => {
    await closeAll();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('labels itself as not FIPS 140-3 validated', async () => {
    const custodian = await open();

    expect(custodian.health()).toEqual({
      custodian: 'software',
      fipsValidated: false,
      label: 'software custodian (node:crypto AES-256) — NOT FIPS 140-3 validated',
    });
  });

  describe('root key file', () => {
    const rootKeyPath = () => join(dataDir, ROOT_KEY_FILE);

    it('is created at first start: 32 bytes, mode 0600', async () => {
      await open();

      const info = await stat(rootKeyPath());
      expect(info.mode & 0o777).toBe(0o600);
      expect(info.size).toBe(32);
    });

    it('is reused after a restart, and material generated before still decrypts', async () => {
      const first = await open();
      const rootKeyBefore = await readFile(rootKeyPath());
      const { materialRef, fingerprint } = await first.generateKey(keyRequest());
      const aad = Buffer.from('ctx');
      const ciphertext = await first.encrypt(materialRef, Buffer.from('before restart'), aad);
      await closeAll();

      const second = await open();

      expect(await readFile(rootKeyPath())).toEqual(rootKeyBefore);
      expect((await second.decrypt(materialRef, ciphertext, aad)).toString()).toBe('before restart');
      expect(checkValueOf(await recipient.reveal(second, materialRef))).toBe(fingerprint);
    });

    const groupOrWorldModes = ['644', '640', '604', '660'];
    it.each(groupOrWorldModes)('is refused when its mode is %s (group or others have access)', async (mode) => {
      await writeFile(rootKeyPath(), randomBytes(32));
      await chmod(rootKeyPath(), parseInt(mode, 8));

      const error = await SoftwareCustodian.open({ dataDir }).catch((failure: unknown) => failure);

      expect(error).toBeInstanceOf(CustodyOperationError);
      expect((error as Error).message).toContain(rootKeyPath());
      expect((error as Error).message).toContain('chmod 600');
    });

    it('is refused when it does not hold 32 bytes', async () => {
      await writeFile(rootKeyPath(), randomBytes(16), { mode: 0o600 });

      await expect(SoftwareCustodian.open({ dataDir })).rejects.toThrow(/holds 16 bytes, expected 32/);
    });
  });

  describe('key-material store', () => {
    it('keeps the database files owner-only', async () => {
      const custodian = await open();
      await custodian.generateKey(keyRequest());

      for (const name of [MATERIAL_DB_FILE, `${MATERIAL_DB_FILE}-wal`]) {
        expect((await stat(join(dataDir, name))).mode & 0o777).toBe(0o600);
      }
    });

    it('stores material sealed: the raw key appears in no file', async () => {
      const custodian = await open();
      const kek = await custodian.generateKey(keyRequest({ purpose: 'kek' }));
      const dek = await custodian.generateKey(keyRequest({ wrappingRef: kek.materialRef }));

      const files = await readAllFiles(dataDir);

      expect([...files.keys()]).toEqual(expect.arrayContaining([MATERIAL_DB_FILE, ROOT_KEY_FILE]));
      expect(filesContaining(files, await recipient.reveal(custodian, kek.materialRef))).toEqual([]);
      expect(filesContaining(files, await recipient.reveal(custodian, dek.materialRef))).toEqual([]);
    });

    it('after destroy, neither the raw key nor its sealed form remains in any file', async () => {
      const custodian = await open();
      const kept = await custodian.generateKey(keyRequest());
      const destroyed = await custodian.generateKey(keyRequest());
      const rawKey = await recipient.reveal(custodian, destroyed.materialRef);
      const sealed = readSealedBlob(dataDir, destroyed.materialRef);
      const keptSealed = readSealedBlob(dataDir, kept.materialRef);
      // Control: the search does find a sealed blob that is still stored, so an empty result means something.
      expect(filesContaining(await readAllFiles(dataDir), sealed)).not.toEqual([]);

      await custodian.destroy(destroyed.materialRef);

      const files = await readAllFiles(dataDir);
      expect(filesContaining(files, rawKey)).toEqual([]);
      expect(filesContaining(files, sealed)).toEqual([]);
      expect(filesContaining(files, keptSealed)).not.toEqual([]);
    });

    it('binds each sealed key to its ref: swapping two rows is detected, not used', async () => {
      const custodian = await open();
      const a = await custodian.generateKey(keyRequest());
      const b = await custodian.generateKey(keyRequest());
      await closeAll();
      swapSealedBlobs(dataDir, a.materialRef, b.materialRef);

      const reopened = await open();

      await expect(reopened.encrypt(a.materialRef, Buffer.from('x'), Buffer.alloc(0))).rejects.toThrow(
        new CustodyOperationError(`Stored key material for ${a.materialRef} failed its integrity check`),
      );
    });

    it('destroying a KEK crypto-shreds a DEK under it even while that DEK sits in the cache', async () => {
      const custodian = await SoftwareCustodian.open({ dataDir, cache: { ttlMs: 60_000, maxUses: 1000, maxEntries: 100 } });
      opened.push(custodian);
      const kek = await custodian.generateKey(keyRequest({ purpose: 'kek' }));
      const dek = await custodian.generateKey(keyRequest({ wrappingRef: kek.materialRef }));
      const aad = Buffer.from('ctx');
      const ciphertext = await custodian.encrypt(dek.materialRef, Buffer.from('phi'), aad);
      expect((await custodian.decrypt(dek.materialRef, ciphertext, aad)).toString()).toBe('phi');

      await custodian.destroy(kek.materialRef);

      await expect(custodian.decrypt(dek.materialRef, ciphertext, aad)).rejects.toBeInstanceOf(MaterialNotFoundError);
    });

    it('destroying a KEK crypto-shreds the DEKs sealed under it', async () => {
      const custodian = await open();
      const kek = await custodian.generateKey(keyRequest({ purpose: 'kek' }));
      const dek = await custodian.generateKey(keyRequest({ wrappingRef: kek.materialRef }));
      const aad = Buffer.from('ctx');
      const ciphertext = await custodian.encrypt(dek.materialRef, Buffer.from('phi'), aad);

      await custodian.destroy(kek.materialRef);

      await expect(custodian.decrypt(dek.materialRef, ciphertext, aad)).rejects.toBeInstanceOf(MaterialNotFoundError);
    });
  });
});

function swapSealedBlobs(dataDir: string, refA: string, refB: string): void {
  const a = readSealedBlob(dataDir, refA);
  const b = readSealedBlob(dataDir, refB);
  const db = new Database(join(dataDir, MATERIAL_DB_FILE));
  try {
    const update = db.prepare('UPDATE material SET wrapped = ? WHERE ref = ?');
    update.run(b, refA);
    update.run(a, refB);
  } finally {
    db.close();
  }
}
