import { resolve } from 'node:path';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import type { EventStore } from '@keyledger/event-store';
import type { ProjectionName, ProjectionStatus, ReadModelStorage } from '@keyledger/read-models';
import { ConfigurationError, loadConfig } from '../../api/src/config.js';

/**
 * `keyledger projections status|rebuild [name]`, straight on the configured store and read models,
 * with or without a server running (a running server's runner simply continues from where a
 * rebuild leaves the checkpoint).
 */
export function registerProjectionCommands(program: Command): void {
  const projections = program.command('projections').description('the read models built from the log: status and rebuild');
  projections
    .command('status')
    .description('position, lag behind the log, unknown event types and failures of each projection')
    .option('--json', 'print JSON instead of a table')
    .action(async (o: { json?: boolean }) => {
      const { projectionStatus } = await import('@keyledger/read-models');
      const status = await withReadModels((store, storage) => projectionStatus(store, storage));
      process.stdout.write(o.json ? `${JSON.stringify(status, null, 2)}\n` : statusTable(status));
    });
  projections
    .command('rebuild [name]')
    .description('drop a projection (all when no name) and rebuild it from the whole log, with a progress bar')
    .action(async (name: string | undefined) => {
      const { PROJECTION_NAMES, rebuildProjections } = await import('@keyledger/read-models');
      if (name !== undefined && !(PROJECTION_NAMES as readonly string[]).includes(name)) {
        throw new ConfigurationError(`unknown projection "${name}"; one of ${PROJECTION_NAMES.join(', ')}`);
      }
      const names = name === undefined ? [...PROJECTION_NAMES] : [name as ProjectionName];
      const bar = new cliProgress.SingleBar(
        { format: `rebuilding ${names.join(', ')} [{bar}] {percentage}% | {value}/{total} | {rate} events/s`, hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      const result = await withReadModels(async (store, storage) => {
        bar.start(await store.headPosition(), 0, { rate: 0 });
        const started = Date.now();
        try {
          return await rebuildProjections(store, storage, names, {
            onProgress: ({ position, head, events }) => {
              bar.setTotal(Math.max(head, position));
              bar.update(position, { rate: Math.round(events / Math.max((Date.now() - started) / 1000, 0.001)) });
            },
          });
        } finally {
          bar.stop();
        }
      });
      const rate = Math.round(result.events / Math.max(result.seconds, 0.001));
      process.stdout.write(
        `rebuilt ${names.join(', ')}: ${result.events} events in ${result.seconds.toFixed(2)} s (${rate} events/s), position ${result.position}\n`,
      );
    });
}

/** Opens the configured event store and read models, runs `work`, and closes both. */
export async function withReadModels<T>(work: (store: EventStore, storage: ReadModelStorage) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const dataDir = resolve(config.dataDir);
  const { openStores, openReadModels } = await import('../../api/src/engine.js');
  const stores = openStores(config, dataDir);
  try {
    await stores.ready();
    const storage = await openReadModels(config, dataDir);
    try {
      return await work(stores.eventStore, storage);
    } finally {
      await storage.close();
    }
  } finally {
    await stores.eventStore.close();
  }
}

function statusTable(status: readonly ProjectionStatus[]): string {
  const header = ['projection', 'position', 'head', 'lag', 'unknown events', 'last failure'];
  const rows = status.map((s) => [
    s.projection,
    String(s.position),
    String(s.head),
    String(s.lag),
    s.lastUnknown ? `${s.unknownEvents} (last ${s.lastUnknown.type} at ${s.lastUnknown.position})` : String(s.unknownEvents),
    s.failure ? `at ${s.failure.position}: ${s.failure.message}` : '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => `${cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`;
  return [header, ...rows].map(line).join('');
}
