import { LogBuilder } from '../../../test/hierarchy-fixtures.js';
import { HierarchyFold } from '../rewrap-job/key-hierarchy.js';
import { destructionImpact, unreadableWith } from './impact.js';

const foldOf = (log: LogBuilder): HierarchyFold => {
  const fold = new HierarchyFold();
  log.events.forEach((event) => fold.apply(event));
  return fold;
};

describe('destruction impact', () => {
  it('loses, with a KEK version, the DEK versions still under it and nothing else', () => {
    const hierarchy = foldOf(
      new LogBuilder()
        .generate('kek', 'kek', { classifications: ['ephi'] })
        .activate('kek')
        .generate('dek-a', 'dek', { parent: ['kek', 1], classifications: ['pii'] })
        .generate('dek-b', 'dek', { parent: ['kek', 1], classifications: ['payment'] })
        .rotate('kek', 2)
        .generate('dek-c', 'dek', { parent: ['kek', 2] })
        .rewrapped('kek', 'dek-b', 1, 1, 2),
    );
    const kek = hierarchy.key('kek')!;

    const impact = destructionImpact(hierarchy, kek, kek.versions[0]!, (keyId) => (keyId === 'kek' ? 5 : 2));

    expect(impact.unreadableKeys.map((k) => [k.keyId, k.version, k.wrappedBy])).toEqual([['dek-a', 1, { keyId: 'kek', version: 1 }]]);
    expect(impact.dataClasses).toEqual(['ephi', 'pii']);
    expect(impact.tenants).toEqual(['tenant-a']);
    expect(impact.protectUses).toEqual({ thisVersion: 5, unreadableKeys: 2 });
    expect(impact.state).toBe('deactivated');
  });

  it('follows the hierarchy down: a software root takes its KEKs and their DEKs, across tenants', () => {
    const hierarchy = foldOf(
      new LogBuilder()
        .generate('root', 'root', { tenantId: 'platform' })
        .generate('kek-a', 'kek', { tenantId: 'a', parent: ['root', 1] })
        .generate('kek-b', 'kek', { tenantId: 'b', parent: ['root', 1], classifications: ['behavioral-health'] })
        .generate('dek-b', 'dek', { tenantId: 'b', parent: ['kek-b', 1] }),
    );

    const lost = unreadableWith(hierarchy, 'root', 1);

    expect(lost.map((k) => k.keyId)).toEqual(['kek-a', 'kek-b', 'dek-b']);
    const impact = destructionImpact(hierarchy, hierarchy.key('root')!, hierarchy.key('root')!.versions[0]!, () => 0);
    expect(impact.tenants).toEqual(['a', 'b', 'platform']);
    expect(impact.dataClasses).toEqual(['behavioral-health']);
  });

  it('does not count a KEK held by an HSM or KMS as lost with the root above it: its device protects it', () => {
    const hierarchy = foldOf(
      new LogBuilder()
        .generate('root', 'root', { custodian: 'pkcs11' })
        .generate('kek', 'kek', { parent: ['root', 1], custodian: 'pkcs11' })
        .generate('dek', 'dek', { parent: ['kek', 1], custodian: 'pkcs11' }),
    );
    expect(unreadableWith(hierarchy, 'root', 1)).toEqual([]);
    expect(unreadableWith(hierarchy, 'kek', 1).map((k) => k.keyId)).toEqual(['dek']);
  });

  it('does not count versions already destroyed', () => {
    const hierarchy = foldOf(new LogBuilder().generate('kek', 'kek').generate('dek', 'dek', { parent: ['kek', 1] }).destroyed('dek', 1));
    expect(unreadableWith(hierarchy, 'kek', 1)).toEqual([]);
  });
});
