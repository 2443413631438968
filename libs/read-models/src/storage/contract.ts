import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { EventStore, RecordedEvent } from '@keyledger/event-store';
import { applyBatch } from '../runner/apply-batch.js';
import { PROJECTIONS } from '../runner/projections.js';
import { rebuildProjections } from '../runner/rebuild.js';
import { PROJECTION_NAMES, CheckpointMovedError, type ReadModelStorage } from './port.js';
import { inventoryCursorOf, type InventoryCursor, type InventorySort } from '../inventory/inventory-query.js';

/**
 * The ReadModelStorage contract: every adapter runs this suite from its own spec file. The log it
 * reads is written once by the caller (`seedLog`), through the real decider, and projected here
 * with the real projections, so the suite checks what the port promises with realistic rows.
 * Spec code only (it calls jest).
 */
export interface ReadModelStorageFixture {
  readonly storage: ReadModelStorage;
  readonly cleanup: () => Promise<void>;
}

export interface SeededLog {
  readonly store: EventStore;
  /** Key ids by name, as the seed created them. */
  readonly keys: Readonly<Record<'rootKey' | 'kekA' | 'dekA' | 'kekB', string>>;
  readonly close: () => Promise<void>;
}

export function readModelStorageContract(name: string, seedLog: () => Promise<SeededLog>, makeStorage: () => Promise<ReadModelStorageFixture>): void {
  describe(`${name} honours the ReadModelStorage contract`, () => {
    let log: SeededLog;
    let events: RecordedEvent[];
    let fixture: ReadModelStorageFixture;
    const storage = () => fixture.storage;
    beforeAll(async () => {
      log = await seedLog();
      events = await log.store.readAll();
    });
    afterAll(() => log.close());
    beforeEach(async () => {
      fixture = await makeStorage();
    });
    afterEach(() => fixture.cleanup());

    const project = () => rebuildProjections(log.store, storage(), PROJECTION_NAMES, { batchSize: 3 });
    const ids = (states: { key: { keyId: string } }[]) => states.map((s) => s.key.keyId);

    it('starts every projection at position 0, empty', async () => {
      expect((await storage().checkpoints.all()).map((c) => [c.projection, c.position, c.unknownEvents, c.failure])).toEqual(
        PROJECTION_NAMES.map((p) => [p, 0, 0, null]),
      );
      expect(await storage().inventory.all()).toEqual([]);
      expect(await storage().audit.list({ order: 'asc', limit: 10 })).toEqual([]);
    });

    it('commits rows and checkpoint together; a commit from a stale position changes nothing', async () => {
      const batch = events.slice(0, 4);
      await applyBatch(PROJECTIONS.audit, storage(), batch, 0);
      expect((await storage().checkpoints.get('audit')).position).toBe(batch[3]!.position);
      const stale = applyBatch(PROJECTIONS.audit, storage(), events.slice(4, 6), 0);
      await expect(stale).rejects.toBeInstanceOf(CheckpointMovedError);
      await expect(stale).rejects.toMatchObject({ projection: 'audit', expected: 0, actual: batch[3]!.position });
      expect((await storage().audit.list({ order: 'asc', limit: 100 })).map((e) => e.position)).toEqual(batch.map((e) => e.position));
    });

    it('resets one projection to position 0 and leaves the others', async () => {
      await project();
      await storage().reset('inventory');
      expect(await storage().inventory.all()).toEqual([]);
      expect((await storage().checkpoints.get('inventory')).position).toBe(0);
      expect((await storage().checkpoints.get('audit')).position).toBe(events.at(-1)!.position);
      expect(await storage().audit.list({ order: 'asc', limit: 1000 })).toHaveLength(events.length);
    });

    it('counts unknown event types and records failures in the checkpoint', async () => {
      await project();
      const checkpoint = await storage().checkpoints.get('compliance');
      const unknown = events.filter((e) => e.type === 'GadgetAttached');
      expect(checkpoint).toMatchObject({ unknownEvents: unknown.length, lastUnknown: { position: unknown.at(-1)!.position, type: 'GadgetAttached' } });
      await storage().checkpoints.recordFailure('compliance', { position: 7, message: 'broken', at: '2026-01-01T00:00:00.000Z' });
      expect((await storage().checkpoints.get('compliance')).failure).toEqual({ position: 7, message: 'broken', at: '2026-01-01T00:00:00.000Z' });
    });

    it('finds current inventory documents by id, by parent and by tenant', async () => {
      await project();
      const { rootKey, kekA, dekA, kekB } = log.keys;
      const current = await storage().inventory.current([dekA, 'missing', dekA]);
      expect([...current.keys()]).toEqual([dekA]);
      expect(current.get(dekA)!.key.parentKeyId).toBe(kekA);
      expect(ids(await storage().inventory.children([rootKey])).sort()).toEqual([kekA, kekB].sort());
      expect(ids(await storage().inventory.all('tenant-a')).sort()).toEqual([kekA, dekA].sort());
      expect(await storage().inventory.all()).toHaveLength(4);
    });

    it('filters the inventory by every criterion', async () => {
      await project();
      const { rootKey, kekA, dekA, kekB } = log.keys;
      const list = async (filter: Record<string, unknown>) => ids(await storage().inventory.list({ sort: 'createdAt', limit: 100, ...filter })).sort();
      expect(await list({ tenantId: 'tenant-a' })).toEqual([kekA, dekA].sort());
      expect(await list({ purpose: 'kek' })).toEqual([kekA, kekB].sort());
      expect(await list({ state: 'compromised' })).toEqual([kekB]);
      expect(await list({ compromised: true })).toEqual([kekB]);
      expect(await list({ compromised: false })).toEqual([rootKey, kekA, dekA].sort());
      expect(await list({ classification: 'pii' })).toEqual([dekA]);
      expect(await list({ vendor: 'openai' })).toEqual([kekA]);
      expect(await list({ custodian: 'pkcs11' })).toEqual([kekB]);
      expect(await list({ rotationDueBefore: '2999-01-01T00:00:00.000Z' })).toEqual([rootKey, kekA].sort());
      expect(await list({ rotationDueBefore: '2000-01-01T00:00:00.000Z' })).toEqual([]);
      expect(await list({ tenantId: 'tenant-a', purpose: 'dek', classification: 'pii' })).toEqual([dekA]);
    });

    it.each(['createdAt', '-createdAt', 'rotationDueAt', '-rotationDueAt', 'tenantId', '-tenantId'] as InventorySort[])(
      'pages the inventory sorted by %s with cursors, ties broken by id',
      async (sort) => {
        await project();
        const whole = await storage().inventory.list({ sort, limit: 100 });
        const paged: string[] = [];
        let after: InventoryCursor | undefined;
        for (;;) {
          const page = await storage().inventory.list({ sort, limit: 1, ...(after ? { after } : {}) });
          if (page.length === 0) break;
          paged.push(page[0]!.key.keyId);
          after = inventoryCursorOf(page[0]!, sort);
        }
        expect(paged).toEqual(ids(whole));
        expect(whole).toHaveLength(4);
      },
    );

    it('answers the inventory at an instant from the states each key went through', async () => {
      await project();
      const { kekB } = log.keys;
      const revoked = events.find((e) => e.type === 'KeyVersionRevoked')!;
      const before = events[events.indexOf(revoked) - 1]!.metadata.recordedAt;
      const generatedB = events.find((e) => e.type === 'KeyGenerated' && (e.data as { keyId: string }).keyId === kekB)!;
      const thenB = (await storage().inventory.list({ sort: 'createdAt', limit: 10, at: before })).find((s) => s.key.keyId === kekB);
      expect(before < revoked.metadata.recordedAt).toBe(true); // the seed pauses before the revocation
      expect(thenB?.key.versions[0]!.state).toBe('active');
      const atRevocation = (await storage().inventory.list({ sort: 'createdAt', limit: 10, at: revoked.metadata.recordedAt })).find((s) => s.key.keyId === kekB);
      expect(atRevocation!.key.versions[0]!.state).toBe('compromised');
      expect(atRevocation!.revision).toBe(revoked.revision);
      const beforeAll = new Date(Date.parse(generatedB.metadata.recordedAt) - 1).toISOString();
      expect(ids(await storage().inventory.list({ sort: 'createdAt', limit: 10, at: beforeAll }))).not.toContain(kekB);
      const compromisedThen = await storage().inventory.list({ sort: 'createdAt', limit: 10, at: revoked.metadata.recordedAt, compromised: true });
      expect(ids(compromisedThen)).toEqual([kekB]);
    });

    it('lists audit entries by each filter, in both orders, with cursors, and counts them by version', async () => {
      await project();
      const { dekA } = log.keys;
      const all = await storage().audit.list({ order: 'asc', limit: 1000 });
      expect(all.map((e) => e.position)).toEqual(events.map((e) => e.position));
      const desc = await storage().audit.list({ order: 'desc', limit: 1000 });
      expect(desc.map((e) => e.position)).toEqual([...all.map((e) => e.position)].reverse());
      const uses = await storage().audit.list({ order: 'asc', limit: 100, keyId: dekA, operations: ['encrypt', 'decrypt'] });
      expect(uses.map((e) => [e.operation, e.outcome, e.version])).toEqual([
        ['encrypt', 'success', 1],
        ['encrypt', 'success', 1],
        ['decrypt', 'denied', 1],
        ['decrypt', 'failed', 1],
      ]);
      expect(await storage().audit.list({ order: 'asc', limit: 100, outcome: 'denied' })).toHaveLength(1);
      expect((await storage().audit.list({ order: 'asc', limit: 100, tenantId: 'tenant-b' })).every((e) => e.tenantId === 'tenant-b')).toBe(true);
      expect((await storage().audit.list({ order: 'asc', limit: 100, principal: 'principal-other' })).map((e) => e.operation)).toEqual(['decrypt']);
      expect(await storage().audit.list({ order: 'asc', limit: 100, operation: 'generate' })).toHaveLength(4);
      const middle = all[Math.floor(all.length / 2)]!;
      const window = await storage().audit.list({ order: 'asc', limit: 1000, from: middle.recordedAt, to: '2999-01-01T00:00:00.000Z' });
      expect(window.every((e) => e.recordedAt >= middle.recordedAt)).toBe(true);
      expect(window.map((e) => e.position)).toContain(middle.position);
      const second = await storage().audit.list({ order: 'asc', limit: 2, after: { order: 'asc', recordedAt: all[1]!.recordedAt, position: all[1]!.position } });
      expect(second.map((e) => e.position)).toEqual([all[2]!.position, all[3]!.position]);
      const back = await storage().audit.list({ order: 'desc', limit: 1, after: { order: 'desc', recordedAt: all[2]!.recordedAt, position: all[2]!.position } });
      expect(back.map((e) => e.position)).toEqual([all[1]!.position]);
      expect([...(await storage().audit.countByVersion({ keyId: dekA, operation: 'encrypt' })).entries()]).toEqual([[1, 2]]);
      expect([...(await storage().audit.countRewrappedFrom(dekA)).entries()]).toEqual([[1, 1]]);
      expect((await storage().audit.list({ order: 'asc', limit: 100, outcome: 'failed' })).map((e) => [e.operation, e.keyId])).toEqual([['decrypt', dekA]]);
    });

    it('selects the keys a compliance rule may fire on, and the tenants with an active KEK', async () => {
      await project();
      const { rootKey, kekA, dekA, kekB } = log.keys;
      const now = new Date().toISOString();
      // the root (ceremonies), kekA (it serves a vendor), kekB (compromised); dekA is clean
      expect(ids(await storage().inventory.complianceCandidates(now)).sort()).toEqual([rootKey, kekA, kekB].sort());
      expect(ids(await storage().inventory.complianceCandidates(now, 'tenant-a'))).toEqual([kekA]);
      // far enough ahead, every active version is past its cryptoperiod
      expect(ids(await storage().inventory.complianceCandidates('2999-01-01T00:00:00.000Z')).sort()).toEqual([rootKey, kekA, kekB].sort());
      expect(await storage().inventory.tenantsWithActiveKek()).toEqual(['tenant-a']);
      expect(dekA).toBeDefined();
    });

    it('keeps compliance documents and facts by kind and tenant', async () => {
      await project();
      const { rootKey, kekB } = log.keys;
      const docs = await storage().compliance.keys([kekB, rootKey]);
      expect(docs.get(kekB)!.key.versions[0]!.state).toBe('compromised');
      expect((await storage().compliance.facts('ceremony-closed')).map((f) => f.keyId)).toEqual([rootKey]);
      expect(await storage().compliance.facts('use-after-deactivation', 'tenant-a')).toEqual([]);
    });
  });
}
