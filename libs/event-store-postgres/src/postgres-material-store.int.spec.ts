import { Buffer } from 'node:buffer';
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT_KEY_FILE, SoftwareCustodian } from '@keyledger/custody';
import { custodianContract, keyRequest, makeTestRecipient } from '../../custody/src/contract.js';
import { createTestDatabase, uniqueSchema, withConnection, type TestDatabase } from '../test/test-database.js';
import { PostgresEventStore } from './postgres-event-store.js';
import { PostgresMaterialStore } from './postgres-material-store.js';

/** The software custodian with its sealed material in PostgreSQL, beside the events. */
let database: TestDatabase | undefined;
const testDatabase = async (): Promise<TestDatabase> => (database ??= await createTestDatabase('material'));
afterAll(async () => {
  await database?.drop();
});

interface Deployment {
  readonly dataDir: string;
  readonly schema: string;
  readonly events: PostgresEventStore;
  readonly custodian: SoftwareCustodian;
}

/** An API process's custody: root.key from its data dir, material in the shared schema. */
const openDeployment = async (dataDir: string, schema: string): Promise<Deployment> => {
  const events = PostgresEventStore.open({ connectionString: (await testDatabase()).url, schema, poolSize: 2 });
  await events.ready();
  const custodian = await SoftwareCustodian.open({ dataDir, materialStore: new PostgresMaterialStore(events.database) });
  return { dataDir, schema, events, custodian };
};

const closeDeployment = async ({ custodian, events }: Deployment): Promise<void> => {
  await custodian.close();
  await events.close();
};

const dropSchema = async (schema: string): Promise<void> => {
  await withConnection((await testDatabase()).url, (client) => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
};

const freshDataDir = () => mkdtemp(join(tmpdir(), 'keyledger-pg-custody-'));

custodianContract('software custodian on the PostgreSQL key-material store', async () => {
  const deployment = await openDeployment(await freshDataDir(), uniqueSchema('custody'));
  return {
    custodian: deployment.custodian,
    cleanup: async () => {
      await closeDeployment(deployment);
      await dropSchema(deployment.schema);
      await rm(deployment.dataDir, { recursive: true, force: true });
    },
  };
});

describe('PostgresMaterialStore', () => {
  let schema: string;
  let dataDirs: string[];
  let deployments: Deployment[];
  const recipient = makeTestRecipient();
  const deploy = async (dataDir?: string): Promise<Deployment> => {
    const dir = dataDir ?? (await freshDataDir());
    dataDirs.push(dir);
    const deployment = await openDeployment(dir, schema);
    deployments.push(deployment);
    return deployment;
  };
  const storedRows = async (): Promise<{ ref: string; wrapped: Buffer }[]> =>
    withConnection((await testDatabase()).url, async (client) => (await client.query(`SELECT ref, wrapped FROM "${schema}".key_material`)).rows);

  beforeEach(() => {
    schema = uniqueSchema('material');
    dataDirs = [];
    deployments = [];
  });
  afterEach(async () => {
    await Promise.all(deployments.map(closeDeployment));
    await dropSchema(schema);
    await Promise.all(dataDirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('keeps material sealed in the database and nothing but root.key on local disk', async () => {
    const { custodian, dataDir } = await deploy();
    const kek = await custodian.generateKey(keyRequest({ purpose: 'kek' }));
    const dek = await custodian.generateKey(keyRequest({ wrappingRef: kek.materialRef }));

    const rows = await storedRows();
    expect(rows.map((row) => row.ref).sort()).toEqual([kek.materialRef, dek.materialRef].sort());
    for (const ref of [kek.materialRef, dek.materialRef]) {
      const raw = await recipient.reveal(custodian, ref);
      expect(rows.some((row) => row.wrapped.includes(raw))).toBe(false);
    }
    expect(await readdir(dataDir)).toEqual([ROOT_KEY_FILE]);
  });

  it('erases a row and proves it gone, for this process and for another one', async () => {
    const first = await deploy();
    const kept = await first.custodian.generateKey(keyRequest());
    const destroyed = await first.custodian.generateKey(keyRequest());

    const evidence = await first.custodian.destroy(destroyed.materialRef);

    expect(evidence).toMatchObject({ materialRef: destroyed.materialRef, verifiedAbsent: true });
    expect(evidence.method).toMatch(/^row deleted in PostgreSQL .*not overwritten/); // the evidence says what was done, not more
    expect((await storedRows()).map((row) => row.ref)).toEqual([kept.materialRef]);
    const second = await deploy();
    expect(await second.custodian.exists(destroyed.materialRef)).toBe(false);
    expect(await second.custodian.exists(kept.materialRef)).toBe(true);
  });

  it('serves every process that shares the database and the same root.key', async () => {
    const first = await deploy();
    const aad = Buffer.from('tenant-a');
    const { materialRef } = await first.custodian.generateKey(keyRequest());
    const ciphertext = await first.custodian.encrypt(materialRef, Buffer.from('phi'), aad);
    const secondDir = await freshDataDir();
    await copyFile(join(first.dataDir, ROOT_KEY_FILE), join(secondDir, ROOT_KEY_FILE));

    const second = await deploy(secondDir);

    expect((await second.custodian.decrypt(materialRef, ciphertext, aad)).toString()).toBe('phi');
  });

  it('replaces the sealed form only when it is still under the expected wrapping key', async () => {
    const { events } = await deploy();
    const store = new PostgresMaterialStore(events.database);
    const row = { ref: 'sw:cas', wrapped: Buffer.from([1]), wrappingRef: null, keyId: 'k', version: 1, tenantId: 't', purpose: 'dek' as const, createdAt: 'now' };
    await store.insert(row);

    expect(await store.replaceWrapping('sw:cas', Buffer.from([2]), 'sw:kek-2', 'sw:someone-else')).toBe(false);
    expect(await store.replaceWrapping('sw:cas', Buffer.from([2]), 'sw:kek-2', null)).toBe(true);
    expect(await store.replaceWrapping('sw:cas', Buffer.from([3]), 'sw:kek-3', null)).toBe(false);
    expect(await store.find('sw:cas')).toEqual({ ...row, wrapped: Buffer.from([2]), wrappingRef: 'sw:kek-2' });
  });
});
