import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordedEvent } from '@keyledger/event-store';
import { loadConfig } from '../../apps/api/src/config.js';
import { openStores } from '../../apps/api/src/engine.js';
import { startServer, type RunningServer } from '../../apps/api/src/server.js';
import { JsonLogger } from '../../apps/api/src/observability/logger.js';
import { createTestDatabase, dumpTables, type TestDatabase } from '../../libs/event-store-postgres/test/test-database.js';
import { cli, filesUnder } from './fixtures.js';

export interface Answer<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface TestServer {
  readonly url: string;
  readonly adminToken: string;
  readonly dataDir: string;
  /** Where the server keeps its state: the data dir, plus the store's variables (for the CLI). */
  readonly storeEnv: Readonly<Record<string, string>>;
  /** Every log line the server wrote. */
  readonly logs: string[];
  /** Every event in the store, read through a connection of its own (as an outside reader would). */
  events(type?: string): Promise<RecordedEvent[]>;
  eventCount(type?: string): Promise<number>;
  call<T = any>(method: string, path: string, options?: { body?: unknown; raw?: string; token?: string | null; headers?: Record<string, string> }): Promise<Answer<T>>;
  /** Runs the built CLI against this server's store. */
  cli(args: string[]): Promise<{ stdout: string; stderr: string }>;
  /** Adds a principal through the CLI, straight on this server's store, and returns its token. */
  addPrincipal(name: string, roles: string[], tenant?: string): Promise<string>;
  /** Everything the server stored at rest: the data dir's files and, on PostgreSQL, every table's rows. */
  storedContents(): Promise<{ where: string; bytes: Buffer }[]>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** A store the end-to-end suites run on: its name, and the variables that select it. */
export interface StoreUnderTest {
  readonly name: 'sqlite' | 'postgres';
  readonly env: Readonly<Record<string, string>>;
}

/**
 * The stores an end-to-end suite should run on (`describe.each(storesUnderTest())`). With
 * `KEYLEDGER_STORE=postgres` and no URL, bootServer gives the server a fresh database and drops it
 * on close.
 */
export const storesUnderTest = (): StoreUnderTest[] => [
  { name: 'sqlite', env: {} },
  { name: 'postgres', env: { KEYLEDGER_STORE: 'postgres' } },
];

/** Boots a real server on a temp data dir and a free port, logging into memory. */
export const bootServer = async (env: Record<string, string> = {}): Promise<TestServer> => {
  const dataDir = mkdtempSync(join(tmpdir(), 'keyledger-e2e-'));
  const database = env.KEYLEDGER_STORE === 'postgres' && !env.KEYLEDGER_PG_URL ? await createTestDatabase('e2e') : null;
  const storeEnv = storeEnvironment(dataDir, env, database);
  const adminToken = `klt_test_admin_${Math.random().toString(36).slice(2)}${'x'.repeat(20)}`;
  const logs: string[] = [];
  const config = loadConfig({
    KEYLEDGER_PORT: '0',
    KEYLEDGER_ADMIN_TOKEN: adminToken,
    KEYLEDGER_LOG_LEVEL: 'debug',
    ...env,
    ...storeEnv,
  });
  const start = () => startServer(config, new JsonLogger('debug', (line) => logs.push(line)));
  let server: RunningServer = await start().catch(async (error: unknown) => {
    await database?.drop();
    throw error;
  });
  const call: TestServer['call'] = async (method, path, options = {}) => {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    const token = options.token === undefined ? adminToken : options.token;
    if (token) headers.authorization = `Bearer ${token}`;
    let payload: string | undefined = options.raw;
    if (options.body !== undefined) {
      payload = JSON.stringify(options.body);
    }
    if (payload !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(server.url + path, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
    const text = await res.text();
    let body: any = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // not JSON (metrics, docs): keep the text
    }
    return { status: res.status, body, headers: res.headers };
  };
  // Without a type: the events caused by requests. The audit sealer's checkpoints are written on
  // its own schedule (every N events, every T seconds) and would make "nothing appended" racy.
  const events = async (type?: string): Promise<RecordedEvent[]> => {
    const { eventStore } = openStores(config, dataDir);
    try {
      const all = await eventStore.readAll({ after: 0, maxCount: Number.MAX_SAFE_INTEGER });
      return type ? all.filter((e) => e.type === type) : all.filter((e) => e.streamId !== 'audit-checkpoints');
    } finally {
      await eventStore.close();
    }
  };
  const runCli = (args: string[]) => cli(args, storeEnv);
  return {
    events,
    eventCount: async (type) => (await events(type)).length,
    get url() {
      return server.url;
    },
    adminToken,
    dataDir,
    storeEnv,
    logs,
    call,
    cli: runCli,
    addPrincipal: async (name, roles, tenant) => {
      const { stdout } = await runCli(['principals', 'add', '--name', name, '--role', ...roles, ...(tenant ? ['--tenant', tenant] : [])]);
      return stdout.trim().split('\n').at(-1)!;
    },
    storedContents: async () => [
      ...filesUnder(dataDir).map(({ path, bytes }) => ({ where: path, bytes })),
      ...(storeEnv.KEYLEDGER_PG_URL ? await dumpTables(storeEnv.KEYLEDGER_PG_URL) : []).map(({ table, text }) => ({ where: table, bytes: Buffer.from(text) })),
    ],
    restart: async () => {
      await server.close();
      server = await start();
    },
    close: async () => {
      try {
        await server.close();
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
        await database?.drop();
      }
    },
  };
};

/** The variables that point a process (this server, the CLI) at the server's state. */
const storeEnvironment = (dataDir: string, env: Record<string, string>, database: TestDatabase | null): Record<string, string> => {
  const selected = Object.fromEntries(
    ['KEYLEDGER_STORE', 'KEYLEDGER_PG_URL', 'KEYLEDGER_ESDB_URL'].flatMap((name) => (env[name] ? [[name, env[name]!]] : [])),
  );
  return { ...selected, ...(database ? { KEYLEDGER_PG_URL: database.url } : {}), KEYLEDGER_DATA_DIR: dataDir };
};
