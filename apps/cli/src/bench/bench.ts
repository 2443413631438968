import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { BenchClient, startBenchServer } from './http-server.js';
import { aesGcmLimit, postgresLimit, sha256Limit, sqliteLimits } from './raw-limits.js';
import { machineFacts, table, writeReport, type Figure } from './report.js';
import { dataPlaneOverHttp, lifecycleOverHttp, noopOverHttp } from './workloads.js';
import { largeLogFigures } from './large-log.js';
import { withScratchDatabase } from './scratch-database.js';

interface BenchOptions {
  stores: string;
  events: number;
  pgUrl: string;
  scale: number;
  out: string;
}

const home = (): string => process.env.KEYLEDGER_HOME ?? process.cwd();

/** Figures over HTTP for one store, each beside the no-op route of the same stack. */
const httpFigures = async (store: string, env: Record<string, string>, scale: number): Promise<Figure[]> => {
  const dataDir = mkdtempSync(join(tmpdir(), `keyledger-bench-${store}-`));
  const server = await startBenchServer(home(), { KEYLEDGER_DATA_DIR: dataDir, ...env });
  const client = new BenchClient(server);
  const figures: Figure[] = [];
  try {
    await noopOverHttp(client, 500, 8); // warm-up: JIT and connection pool, not measured
    const noop32 = await noopOverHttp(client, Math.max(1000, Math.round(5000 * scale)), 32);
    const noop1 = await noopOverHttp(client, Math.max(300, Math.round(1000 * scale)), 1);
    const noopLimit = (c: number) => ({ name: `no-op route c=${c}`, value: c === 1 ? noop1.perSecond : noop32.perSecond });
    figures.push({ name: 'no-op route c=32', store, value: noop32.perSecond, unit: 'req/s' });
    for (const concurrency of [1, 32]) {
      const { commands, keys } = await lifecycleOverHttp(client, Math.round((concurrency === 1 ? 40 : 320) * scale), concurrency);
      figures.push({ name: `lifecycle commands c=${concurrency}`, store, value: commands.perSecond, unit: 'cmd/s', limit: noopLimit(concurrency) });
      figures.push({ name: `lifecycle sequences (6 cmds) c=${concurrency}`, store, value: keys.perSecond, unit: 'keys/s' });
    }
    try {
      const { dataKeys, encrypt } = await dataPlaneOverHttp(client, Math.round(3000 * scale), 32);
      figures.push({ name: 'data keys c=32 (use recorded)', store, value: dataKeys.perSecond, unit: 'ops/s', limit: noopLimit(32) });
      figures.push({ name: 'encrypt 256 B c=32 (use recorded)', store, value: encrypt.perSecond, unit: 'ops/s', limit: noopLimit(32) });
    } catch (error) {
      process.stderr.write(`data plane not measured on ${store}: ${(error as Error).message}\n`);
    }
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return figures;
};

export const runBench = async (options: BenchOptions): Promise<Figure[]> => {
  const figures: Figure[] = [];
  const aes = aesGcmLimit(Math.round(200_000 * options.scale));
  const sha = sha256Limit(Math.round(500_000 * options.scale));
  figures.push({ name: 'raw node:crypto AES-256-GCM 64 B', store: '-', value: aes.perSecond, unit: 'ops/s' });
  figures.push({ name: 'raw node:crypto SHA-256 512 B', store: '-', value: sha.perSecond, unit: 'ops/s' });
  const sqlite = await sqliteLimits(Math.round(200_000 * options.scale));
  figures.push({ name: 'raw better-sqlite3 durable insert (batches of 100)', store: 'sqlite', value: sqlite.insert.perSecond, unit: 'rows/s' });
  figures.push({ name: 'raw better-sqlite3 sequential scan', store: 'sqlite', value: sqlite.scan.perSecond, unit: 'rows/s' });
  const stores = options.stores.split(',').map((s) => s.trim());
  let pgInsert: number | undefined;
  if (stores.includes('postgres')) {
    const pg = await postgresLimit(options.pgUrl, Math.round(50_000 * options.scale)).catch((error: Error) => {
      process.stderr.write(`raw pg not measured: ${error.message}\n`);
      return null;
    });
    if (pg) {
      figures.push({ name: 'raw pg insert (batches of 100)', store: 'postgres', value: pg.perSecond, unit: 'rows/s' });
      pgInsert = pg.perSecond;
    }
  }
  const limits = { sha256: sha.perSecond, scan: sqlite.scan.perSecond, insert: sqlite.insert.perSecond, ...(pgInsert ? { pgInsert } : {}) };
  const events = Math.round(options.events * options.scale);
  for (const store of stores) {
    // Each phase on PostgreSQL gets a database of its own, so runs never see each other's events.
    const onStore = (work: (env: Record<string, string>) => Promise<Figure[]>): Promise<Figure[]> =>
      store === 'postgres'
        ? withScratchDatabase(options.pgUrl, (url) => work({ KEYLEDGER_STORE: store, KEYLEDGER_PG_URL: url }))
        : work({ KEYLEDGER_STORE: store });
    const phases: [string, (env: Record<string, string>) => Promise<Figure[]>][] = [
      ['HTTP', (env) => httpFigures(store, env, options.scale)],
      ['large log', (env) => largeLogFigures(store, env, events, limits)],
    ];
    for (const [phase, run] of phases) {
      figures.push(...(await onStore(run).catch((error: Error) => {
        process.stderr.write(`${phase} not measured on ${store}: ${error.message}\n`);
        return [];
      })));
    }
  }
  return figures;
};

export const registerBench = (program: Command): void => {
  program
    .command('bench')
    .description('measure throughput beside raw limits measured in the same run (never part of the tests)')
    .option('--stores <list>', 'stores to measure', 'sqlite,postgres')
    .option('--pg-url <url>', 'PostgreSQL for the postgres figures', process.env.KEYLEDGER_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres')
    .option('--events <n>', 'size of the generated log for replay and verify figures', Number, 1_000_000)
    .option('--scale <factor>', 'multiply every workload size (0.1 for a quick look)', Number, 1)
    .option('--out <dir>', 'where the JSON report goes', 'bench-results')
    .action(async (o: BenchOptions) => {
      process.stdout.write(`machine: ${JSON.stringify(machineFacts())}\n`);
      const figures = await runBench(o);
      process.stdout.write(`${table(figures)}\n`);
      process.stdout.write(`report: ${writeReport(o.out, figures)}\n`);
    });
};
