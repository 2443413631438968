import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordedEvent } from '@keyledger/event-store';
import { loadConfig } from '../../apps/api/src/config.js';
import { openStores } from '../../apps/api/src/engine.js';
import { startServer, type RunningServer } from '../../apps/api/src/server.js';
import { JsonLogger } from '../../apps/api/src/observability/logger.js';

export interface Answer<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface TestServer {
  readonly url: string;
  readonly adminToken: string;
  readonly dataDir: string;
  /** Every log line the server wrote. */
  readonly logs: string[];
  /** Every event in the store, read through a connection of its own (as an outside reader would). */
  events(type?: string): Promise<RecordedEvent[]>;
  eventCount(type?: string): Promise<number>;
  call<T = any>(method: string, path: string, options?: { body?: unknown; raw?: string; token?: string | null; headers?: Record<string, string> }): Promise<Answer<T>>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** Boots a real server on a temp data dir and a free port, logging into memory. */
export const bootServer = async (env: Record<string, string> = {}): Promise<TestServer> => {
  const dataDir = mkdtempSync(join(tmpdir(), 'keyledger-e2e-'));
  const adminToken = `klt_test_admin_${Math.random().toString(36).slice(2)}${'x'.repeat(20)}`;
  const logs: string[] = [];
  const config = loadConfig({
    KEYLEDGER_DATA_DIR: dataDir,
    KEYLEDGER_PORT: '0',
    KEYLEDGER_ADMIN_TOKEN: adminToken,
    KEYLEDGER_LOG_LEVEL: 'debug',
    ...env,
  });
  const start = () => startServer(config, new JsonLogger('debug', (line) => logs.push(line)));
  let server: RunningServer = await start();
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
  const events = async (type?: string): Promise<RecordedEvent[]> => {
    const { eventStore } = openStores(config, dataDir);
    try {
      const all = await eventStore.readAll({ after: 0, maxCount: Number.MAX_SAFE_INTEGER });
      return type ? all.filter((e) => e.type === type) : all;
    } finally {
      await eventStore.close();
    }
  };
  return {
    events,
    eventCount: async (type) => (await events(type)).length,
    get url() {
      return server.url;
    },
    adminToken,
    dataDir,
    logs,
    call,
    restart: async () => {
      await server.close();
      server = await start();
    },
    close: async () => {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
};
