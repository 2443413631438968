import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { ConcurrencyError } from '@keyledger/event-store';
import { testEvent } from '../../event-store/src/contract-helpers.js';
import { eventStoreContract } from '../../event-store/src/contract.js';
import { EsdbEventStore } from './esdb-event-store.js';
import { StoreTimeoutError } from './with-timeout.js';

/**
 * No EventStoreDB server runs on this kind of machine: the contract runs only when
 * KEYLEDGER_ESDB_URL names one (`npm run test:esdb`, see docs/stores.md). Every test store writes
 * under its own stream prefix, so a shared server needs no cleanup between tests.
 */
const esdbUrl = process.env.KEYLEDGER_ESDB_URL;
const describeWithServer = esdbUrl ? describe : describe.skip;

describeWithServer('EventStoreDB (skipped unless KEYLEDGER_ESDB_URL names a server)', () => {
  const open = (prefix: string) => EsdbEventStore.open({ connectionString: esdbUrl!, streamPrefix: prefix, pollIntervalMs: 100 });

  eventStoreContract('EsdbEventStore', async () => {
    const prefix = `keyledger-test-${randomUUID()}-`;
    const store = open(prefix);
    const reopened: EsdbEventStore[] = [];
    return {
      store,
      reopen: async () => {
        const again = open(prefix);
        reopened.push(again);
        return again;
      },
      cleanup: async () => {
        await Promise.all([store, ...reopened].map((s) => s.close()));
      },
    };
  }, { densePositions: false });
});

describe('EsdbEventStore without a server', () => {
  let silent: Server;
  let sockets: Socket[];
  let silentUrl: string;
  beforeAll(async () => {
    sockets = [];
    // Accepts connections and never answers: the case where the client hangs past its deadlines.
    silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    silentUrl = `esdb://127.0.0.1:${address.port}?tls=false`;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it('gives up on a server that never answers after its own timeout, for appends and reads', async () => {
    const store = EsdbEventStore.open({ connectionString: silentUrl, timeoutMs: 300 });
    try {
      const started = Date.now();
      const append = store.appendToStream('key-1', [testEvent('KeyGenerated')], 'no-stream');

      await expect(append).rejects.toBeInstanceOf(StoreTimeoutError);
      await expect(append).rejects.toMatchObject({ code: 'STORE.TIMEOUT', timeoutMs: 300 });
      expect(Date.now() - started).toBeLessThan(2_000);
      await expect(store.readStream('key-1')).rejects.toBeInstanceOf(StoreTimeoutError);
      await expect(store.headPosition()).rejects.toBeInstanceOf(StoreTimeoutError);
    } finally {
      await store.close().catch(() => undefined); // dispose may time out as well against this listener
    }
  });

  it('passes a refused connection through as it is, not as a conflict', async () => {
    const closedPort = await freePort();
    const store = EsdbEventStore.open({ connectionString: `esdb://127.0.0.1:${closedPort}?tls=false`, timeoutMs: 5_000 });
    try {
      const failure = await store.appendToStream('key-1', [testEvent('KeyGenerated')], 'no-stream').catch((error: unknown) => error);

      expect(failure).not.toBeInstanceOf(ConcurrencyError);
      expect(failure).not.toBeInstanceOf(StoreTimeoutError);
      expect(failure).toMatchObject({ code: 14 }); // gRPC UNAVAILABLE
    } finally {
      await store.close();
    }
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
