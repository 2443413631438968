import { keyLineage, PROJECTION_NAMES, ReadSide } from '@keyledger/read-models';
import { LogWriter, readFixture, type ReadFixture } from './support/read-log.js';

/**
 * Lineage from the inventory and the audit view: the chain tenant → DEK → KEK → root, data
 * classes, and per version what still depends on it (keys wrapped under it, ciphertexts produced
 * under it and not rewrapped away), which is re-encryption debt once the version no longer protects.
 */
describe('key lineage and re-encryption debt', () => {
  let fixture: ReadFixture;
  let log: LogWriter;
  let side: ReadSide;
  beforeEach(async () => {
    fixture = readFixture();
    log = new LogWriter(fixture.store);
    side = new ReadSide(fixture.store, fixture.openStorage(), { catchUpTimeoutMs: 5_000 });
    await side.start();
  });
  afterEach(async () => {
    await side.stop();
    await fixture.cleanup();
  });

  const everyone = { canSee: () => true };
  const lineage = async (keyId: string, options: { canSee: (tenantId: string) => boolean } = everyone) => {
    await side.caughtUp(PROJECTION_NAMES);
    return keyLineage(side.storage, keyId, options);
  };

  /** A platform root, acme's KEK rotated once, DEKs under each KEK version, data keys under both. */
  const hierarchy = async () => {
    const root = await log.generate({ tenantId: 'platform', purpose: 'root', classifications: ['internal'] });
    await log.command(root, 'ActivateKey', {});
    const kek = await log.generate({ tenantId: 'acme', purpose: 'kek', parent: root, classifications: ['ephi'] });
    await log.command(kek, 'ActivateKey', {});
    const early = await log.generate({ tenantId: 'acme', purpose: 'dek', parent: kek, classifications: ['pii'] });
    const moved = await log.generate({ tenantId: 'acme', purpose: 'dek', parent: kek, classifications: ['payment'] });
    for (let i = 0; i < 3; i += 1) await log.used(kek, 1, 'generate-data-key');
    await log.rotate(kek);
    const late = await log.generate({ tenantId: 'acme', purpose: 'dek', parent: kek, classifications: ['ephi'] });
    await log.used(kek, 2, 'generate-data-key');
    await log.rewrapUse(kek, 1, 2); // one data key of version 1 rewrapped to version 2
    await log.dekRewrapped(moved, 1, 2); // the rotation job moved one DEK to version 2
    return { root, kek, early, moved, late };
  };

  it('gives the chain tenant → DEK → KEK → root with each key\'s classes', async () => {
    const { root, kek, late } = await hierarchy();
    const found = (await lineage(late))!;
    expect(found.chain.map((node) => [node.level, 'id' in node ? node.id : node.tenantId])).toEqual([
      ['tenant', 'acme'],
      ['dek', late],
      ['kek', kek],
      ['root', root],
    ]);
    expect(found.chain.slice(1).map((node) => ('classifications' in node ? node.classifications : []))).toEqual([['ephi'], ['ephi'], ['internal']]);
    expect(found.dataClasses).toEqual(['ephi']);
    expect(found.descendants).toEqual({ total: 0, truncated: false, items: [] });
  });

  it('counts per KEK version the keys and ciphertexts still under it, and the debt of the retired version', async () => {
    const { kek, early, moved, late } = await hierarchy();
    const found = (await lineage(kek))!;
    expect(found.versions).toEqual([
      {
        version: 1,
        state: 'deactivated',
        protecting: false,
        dependents: { keys: 1, keyVersions: 1, ciphertexts: 2 },
        reencryptionDebt: { keys: 1, keyVersions: 1, ciphertexts: 2 },
      },
      {
        version: 2,
        state: 'active',
        protecting: true,
        dependents: { keys: 2, keyVersions: 2, ciphertexts: 2 },
        reencryptionDebt: { keys: 0, keyVersions: 0, ciphertexts: 0 },
      },
    ]);
    expect(found.descendants.items.map((node) => node.id).sort()).toEqual([early, moved, late].sort());
    expect(found.dataClasses).toEqual(['ephi', 'payment', 'pii']);
    expect(found.tenants).toEqual(['acme']);
    await log.dekRewrapped(early, 1, 2); // the job finishes: version 1 owes no key any more
    expect((await lineage(kek))!.versions[0]!.reencryptionDebt).toEqual({ keys: 0, keyVersions: 0, ciphertexts: 2 });
  });

  it('lists a root\'s KEKs and their DEKs as descendants, across tenants', async () => {
    const { root } = await hierarchy();
    const globexKek = await log.generate({ tenantId: 'globex', purpose: 'kek', parent: root });
    const found = (await lineage(root))!;
    expect(found.descendants.total).toBe(5);
    expect(found.tenants).toEqual(['acme', 'globex', 'platform']);
    expect(found.descendants.items.map((n) => n.id)).toContain(globexKek);
  });

  it('hides the identity of keys of tenants the reader may not see', async () => {
    const { late } = await hierarchy();
    const found = (await lineage(late, { canSee: (tenantId) => tenantId === 'acme' }))!;
    expect(found.chain.at(-1)).toEqual({
      level: 'root',
      id: null,
      purpose: 'root',
      tenantId: null,
      visible: false,
      custodian: null,
      currentVersion: null,
      state: null,
      classifications: [],
    });
  });

  it('answers null for a key the inventory does not hold', async () => {
    expect(await lineage('no-such-key')).toBeNull();
  });
});
