import { ReadSide, rebuildProjections, PROJECTION_NAMES, type ReadModelStorage } from '@keyledger/read-models';
import { dumpReadModels, LogWriter, readFixture, type ReadFixture } from './support/read-log.js';

/**
 * The projection runner against a real SQLite event store and read-model file: checkpointed
 * progress, restart from the checkpoint, unknown event types, a failing commit, and a rebuild
 * racing a live runner. Each case ends by comparing with a rebuild from zero.
 */
describe('projection runner on SQLite', () => {
  let fixture: ReadFixture;
  let log: LogWriter;
  const running: ReadSide[] = [];

  beforeEach(() => {
    fixture = readFixture();
    log = new LogWriter(fixture.store);
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((side) => side.stop()));
    await fixture.cleanup();
  });

  const startReadSide = async (storage: ReadModelStorage, options: { batchSize?: number; retryDelayMs?: number } = {}) => {
    const side = new ReadSide(fixture.store, storage, { catchUpTimeoutMs: 5_000, ...options });
    running.push(side);
    await side.start();
    return side;
  };

  const rebuilt = async () => {
    const fresh = fixture.openStorage(`rebuilt-${Math.random().toString(36).slice(2)}.db`);
    await rebuildProjections(fixture.store, fresh, PROJECTION_NAMES, { batchSize: 5 });
    return dumpReadModels(fresh);
  };

  /** A tenant with a KEK and two DEKs, a rotation, uses and a denial: about twenty events. */
  const someHistory = async (tenantId: string) => {
    const kek = await log.generate({ tenantId, purpose: 'kek' });
    await log.command(kek, 'ActivateKey', {});
    const deks = [await log.generate({ tenantId, purpose: 'dek', parent: kek }), await log.generate({ tenantId, purpose: 'dek', parent: kek })];
    for (const dek of deks) await log.command(dek, 'ActivateKey', {});
    await log.rotate(deks[0]!);
    await log.used(deks[0]!, 2, 'encrypt');
    await log.denied(deks[0]!, 1, 'encrypt');
    await log.command(deks[1]!, 'SuspendKey', { reason: 'investigation' });
    return { kek, deks };
  };

  it('resumes from its checkpoint after a restart: only the new events are applied', async () => {
    const storage = fixture.openStorage();
    const first = await startReadSide(storage);
    await someHistory('tenant-a');
    await first.caughtUp(PROJECTION_NAMES);
    const before = await fixture.store.headPosition();
    expect(first.runner('inventory').stats().applied).toBe(before);
    await first.stop();

    await someHistory('tenant-b');
    const added = (await fixture.store.headPosition()) - before;
    const second = await startReadSide(storage);
    await second.caughtUp(PROJECTION_NAMES);

    for (const name of PROJECTION_NAMES) expect({ name, applied: second.runner(name).stats().applied }).toEqual({ name, applied: added });
    expect(dumpReadModels(fixture.openStorage())).toEqual(await rebuilt());
  });

  it('commits a batch of events and its checkpoint together, in batches of at most batchSize', async () => {
    const storage = fixture.openStorage();
    await someHistory('tenant-a');
    const head = await fixture.store.headPosition();
    const side = await startReadSide(storage, { batchSize: 4 });
    await side.caughtUp(PROJECTION_NAMES);
    expect(side.runner('audit').stats()).toEqual({ applied: head, batches: Math.ceil(head / 4) });
    const checkpoints = await storage.checkpoints.all();
    expect(checkpoints.map((c) => [c.projection, c.position])).toEqual(PROJECTION_NAMES.map((name) => [name, head]));
  });

  it('reports events of unknown types with their position, moves past them and keeps projecting', async () => {
    const storage = fixture.openStorage();
    const side = await startReadSide(storage);
    await log.unknown('ShinyFeatureInvented', { keyId: 'k-1', version: 2 });
    const unknownAt = await fixture.store.headPosition();
    const { kek } = await someHistory('tenant-a');
    await side.caughtUp(PROJECTION_NAMES);

    const status = await side.status();
    for (const s of status) {
      expect(s).toMatchObject({ unknownEvents: 1, lastUnknown: { type: 'ShinyFeatureInvented', position: unknownAt }, lag: 0, runner: 'running' });
    }
    const [entry] = await storage.audit.list({ order: 'asc', limit: 1 });
    expect(entry).toMatchObject({ position: unknownAt, operation: 'shiny-feature-invented', keyId: 'k-1', version: 2, outcome: 'success' });
    expect((await storage.inventory.current([kek])).get(kek)?.key.keyId).toBe(kek);
  });

  it('keeps neither rows nor checkpoint of a batch that fails, records where, and resumes to what a rebuild gives', async () => {
    const storage = fixture.openStorage();
    const { kek } = await someHistory('tenant-a');
    await startReadSide(storage).then((side) => side.caughtUp(PROJECTION_NAMES));
    await Promise.all(running.splice(0).map((side) => side.stop()));
    // A fault injected in the inventory's write of one key: its batch must roll back whole.
    const poisoned = await log.generate({ tenantId: 'tenant-a', purpose: 'dek', parent: kek });
    const poisonAt = await fixture.store.headPosition();
    storage.database.exec(
      `CREATE TRIGGER refuse_key BEFORE INSERT ON inventory_history WHEN NEW.key_id = '${poisoned}'
       BEGIN SELECT RAISE(ABORT, 'injected fault'); END`,
    );
    await log.command(poisoned, 'ActivateKey', {});

    const side = await startReadSide(storage, { retryDelayMs: 100 });
    await expect(side.caughtUp(['inventory'])).rejects.toMatchObject({ code: 'READ_MODEL.PROJECTION_FAILED' });
    const failed = (await side.status()).find((s) => s.projection === 'inventory')!;
    expect(failed.failure).toMatchObject({ position: poisonAt, message: 'injected fault' });
    expect(failed.position).toBe(poisonAt - 1);
    const rows = storage.database.prepare('SELECT COUNT(*) AS n FROM inventory_history WHERE valid_from_position >= ?').get(poisonAt) as { n: number };
    expect(rows.n).toBe(0);
    await side.caughtUp(['audit', 'compliance']); // the other projections are not held back

    storage.database.exec('DROP TRIGGER refuse_key');
    await waitFor(async () => (await side.status()).every((s) => s.lag === 0 && s.failure === null));
    expect(side.runner('inventory').state).toBe('running');
    expect(dumpReadModels(storage)).toEqual(await rebuilt());
  });

  it('converges to what a rebuild gives when a rebuild from another process races the live runner', async () => {
    const storage = fixture.openStorage();
    const side = await startReadSide(storage, { batchSize: 3 });
    await someHistory('tenant-a');
    await side.caughtUp(PROJECTION_NAMES);
    const otherProcess = fixture.openStorage(); // a second handle on the same file, as the CLI would open
    const writing = (async () => {
      for (let i = 0; i < 5; i += 1) await someHistory(`tenant-${i}`);
    })();
    await rebuildProjections(fixture.store, otherProcess, PROJECTION_NAMES, { batchSize: 4 });
    await writing;
    await side.caughtUp(PROJECTION_NAMES);
    expect(dumpReadModels(storage)).toEqual(await rebuilt());
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
