import { randomBytes } from 'node:crypto';
import { runConcurrently, type Throughput } from './measure.js';
import type { BenchClient } from './http-server.js';

/** Six commands a key: generate → activate → rotate → revoke → schedule destruction → destroy. */
export const LIFECYCLE_COMMANDS_PER_KEY = 6;

export const lifecycleOverHttp = async (client: BenchClient, keys: number, concurrency: number): Promise<{ commands: Throughput; keys: Throughput }> => {
  const tenants = Math.max(1, Math.min(concurrency, 16));
  const keks: string[] = [];
  for (let t = 0; t < tenants; t++) {
    const kek = await client.post('/v1/keys', { tenantId: `bench-${t}`, purpose: 'kek' });
    await client.post(`/v1/keys/${kek.id}/activate`);
    keks.push(kek.id);
  }
  const sequences = await runConcurrently(keys, concurrency, async (i) => {
    const t = i % tenants;
    const dek = await client.post('/v1/keys', { tenantId: `bench-${t}`, purpose: 'dek', parentKeyId: keks[t] });
    await client.post(`/v1/keys/${dek.id}/activate`);
    await client.post(`/v1/keys/${dek.id}/rotate`);
    await client.post(`/v1/keys/${dek.id}/revoke`, { reason: 'superseded' });
    await client.post(`/v1/keys/${dek.id}/schedule-destruction`, { version: 2, waitingPeriodDays: 0 });
    await client.post(`/v1/keys/${dek.id}/destroy`, { version: 2 });
  });
  const commands = sequences.operations * LIFECYCLE_COMMANDS_PER_KEY;
  return { keys: sequences, commands: { operations: commands, seconds: sequences.seconds, perSecond: commands / sequences.seconds } };
};

/** Data-key generation and small-payload encryption, every use durably recorded. */
export const dataPlaneOverHttp = async (client: BenchClient, operations: number, concurrency: number): Promise<{ dataKeys: Throughput; encrypt: Throughput }> => {
  const kek = await client.post('/v1/keys', { tenantId: 'bench-dp', purpose: 'kek' });
  await client.post(`/v1/keys/${kek.id}/activate`);
  const dek = await client.post('/v1/keys', { tenantId: 'bench-dp', purpose: 'dek', parentKeyId: kek.id });
  await client.post(`/v1/keys/${dek.id}/activate`);
  const dataKeys = await runConcurrently(operations, concurrency, async () => {
    await client.post(`/v1/keys/${kek.id}/data-keys`);
  });
  const plaintext = randomBytes(256).toString('base64');
  const encrypt = await runConcurrently(operations, concurrency, async () => {
    await client.post(`/v1/keys/${dek.id}/encrypt`, { plaintext, context: { tenant: 'bench-dp' } });
  });
  return { dataKeys, encrypt };
};

/** The no-op limit of the same HTTP stack: `GET /health`. */
export const noopOverHttp = (client: BenchClient, operations: number, concurrency: number): Promise<Throughput> =>
  runConcurrently(operations, concurrency, async () => {
    await client.get('/health', null);
  });
