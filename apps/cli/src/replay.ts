import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { withReadModels } from './projections.js';

/**
 * `keyledger audit replay --at <instant> [--key <id>]`: the inventory, or one key, as it was at an
 * instant, folded straight from the log (no read model involved). It prints what
 * `GET /v1/keys?at=` (all pages) or `GET /v1/keys/{id}?at=` answers, so either checks the other.
 *
 * `audit` is shared with the integrity commands (verify, export, verify-bundle): it is looked up
 * and created only if no one registered it yet, whatever the order of registration.
 */
export function registerReplayCommand(program: Command): void {
  const audit =
    program.commands.find((command) => command.name() === 'audit') ??
    program.command('audit').description('the audit trail: integrity, export, replay');
  audit
    .command('replay')
    .description('the inventory (or one key) as it was at an instant, replayed from the log')
    .requiredOption('--at <instant>', 'an ISO-8601 instant with a time zone, e.g. 2026-01-31T00:00:00Z')
    .option('--key <keyId>', 'one key instead of the whole inventory')
    .action(async (o: { at: string; key?: string }) => {
      const at = await instantOf(o.at);
      const answer = await withReadModels((store) => (o.key === undefined ? replayAll(store, at) : replayKey(store, at, o.key)));
      process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
    });
}

async function instantOf(at: string): Promise<string> {
  const { normalizeInstant } = await import('@keyledger/domain');
  return normalizeInstant(at, 'at');
}

type Store = Parameters<Parameters<typeof withReadModels>[0]>[0];

async function replayAll(store: Store, at: string): Promise<{ items: unknown[]; nextCursor: null }> {
  const [{ replayInventory }, { toInventoryItem }] = await Promise.all([import('@keyledger/read-models'), import('@keyledger/application')]);
  const bar = new cliProgress.SingleBar({ format: 'replaying [{bar}] {percentage}% | {value}/{total}', hideCursor: true }, cliProgress.Presets.shades_classic);
  bar.start(await store.headPosition(), 0);
  try {
    const keys = await replayInventory(store, at, ({ position, head }) => {
      bar.setTotal(Math.max(head, position));
      bar.update(position);
    });
    return { items: keys.map(toInventoryItem), nextCursor: null };
  } finally {
    bar.stop();
  }
}

async function replayKey(store: Store, at: string, keyId: string): Promise<unknown> {
  const [{ KeyReplay }, { keyStream, toKeyView }, { KeyNotFoundError }] = await Promise.all([
    import('@keyledger/read-models'),
    import('@keyledger/application'),
    import('@keyledger/domain'),
  ]);
  const replay = new KeyReplay(at);
  replay.apply(await store.readStream(keyStream(keyId)));
  const [found] = replay.keysAt();
  if (!found) throw new KeyNotFoundError(keyId);
  return toKeyView(found.key, found.revision);
}
