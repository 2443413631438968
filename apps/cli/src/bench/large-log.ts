import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditSealer, SoftwareCheckpointSigner, TrustedKeys, measureVerifyThroughput } from '@keyledger/audit';
import { loadConfig } from '../../../api/src/config.js';
import { openReadModels, openStores } from '../../../api/src/engine.js';
import { PROJECTION_NAMES, rebuildProjections, type ReadModelStorage } from '@keyledger/read-models';
import { percentile } from './measure.js';
import { generateLog } from './generator.js';
import type { Figure } from './report.js';

const progress = (label: string, target: number) => {
  let shown = 0;
  return (done: number) => {
    const step = Math.floor((done / target) * 20);
    if (step > shown && process.stderr.isTTY) {
      shown = step;
      process.stderr.write(`\r${label} ${'#'.repeat(step).padEnd(20, '.')} ${done.toLocaleString('en-US')}`);
    }
  };
};

/**
 * The figures that need a large log: generation (durable appends through the port), sealing,
 * and `audit verify`, each beside its raw limit from the same run.
 */
export const largeLogFigures = async (
  store: string,
  env: Record<string, string>,
  events: number,
  limits: { sha256: number; scan: number; insert: number; pgInsert?: number },
): Promise<Figure[]> => {
  const dataDir = mkdtempSync(join(tmpdir(), `keyledger-bench-log-${store}-`));
  const config = loadConfig({ KEYLEDGER_DATA_DIR: dataDir, KEYLEDGER_STORE: store, ...env });
  const stores = openStores(config, dataDir);
  const figures: Figure[] = [];
  try {
    const generated = await generateLog(stores.eventStore, events, progress('generating', events));
    process.stderr.write('\n');
    figures.push({
      name: `generate ${generated.events.toLocaleString('en-US')} events (durable appends, 64 in flight)`,
      store,
      value: generated.events / generated.seconds,
      unit: 'events/s',
      ...(store === 'sqlite' ? { limit: { name: 'raw durable insert', value: limits.insert } } : {}),
      ...(store === 'postgres' && limits.pgInsert ? { limit: { name: 'raw pg insert', value: limits.pgInsert } } : {}),
    });
    const signer = await SoftwareCheckpointSigner.open(dataDir);
    const sealer = new AuditSealer({ store: stores.eventStore, signer, checkpointEvery: 10_000, checkpointIntervalMs: 3_600_000, logger: { event: () => undefined } });
    const sealStarted = process.hrtime.bigint();
    await sealer.sealOnce();
    const sealSeconds = Number(process.hrtime.bigint() - sealStarted) / 1e9;
    figures.push({ name: 'seal (hash chain + Merkle checkpoints)', store, value: generated.events / sealSeconds, unit: 'events/s', limit: { name: 'raw SHA-256 512 B', value: limits.sha256 } });
    const verify = await measureVerifyThroughput(stores.eventStore, new TrustedKeys([signer.publicKey]));
    figures.push({ name: 'audit verify', store, value: verify.verifyEventsPerSecond, unit: 'events/s', limit: { name: 'raw SHA-256 of the same events', value: verify.rawSha256EventsPerSecond } });
    const storage = await openReadModels(config, dataDir);
    try {
      figures.push(...(await readSideFigures(stores.eventStore, storage, store, limits)));
    } finally {
      await storage.close();
    }
  } finally {
    await stores.eventStore.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return figures;
};

/** Rebuild of every projection from zero, then point-in-time inventory queries on the result. */
const readSideFigures = async (
  eventStore: Parameters<typeof rebuildProjections>[0],
  storage: ReadModelStorage,
  store: string,
  limits: { scan: number },
): Promise<Figure[]> => {
  const rebuilt = await rebuildProjections(eventStore, storage, [...PROJECTION_NAMES]);
  const figures: Figure[] = [
    {
      name: `projection rebuild (${PROJECTION_NAMES.join(', ')})`,
      store,
      value: rebuilt.events / rebuilt.seconds,
      unit: 'events/s',
      ...(store === 'sqlite' ? { limit: { name: 'raw sequential scan', value: limits.scan } } : {}),
    },
  ];
  const now = Date.now();
  const samples: number[] = [];
  for (let i = 0; i < 50; i++) {
    const at = new Date(now - ((i * 7) % 380) * 86_400_000).toISOString();
    const started = process.hrtime.bigint();
    await storage.inventory.list({ sort: 'createdAt', limit: 100, at });
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  samples.sort((a, b) => a - b);
  figures.push({ name: 'point-in-time inventory, first 100 keys (median)', store, value: percentile(samples, 50), unit: 'ms' });
  figures.push({ name: 'point-in-time inventory, first 100 keys (p95)', store, value: percentile(samples, 95), unit: 'ms' });
  return figures;
};
