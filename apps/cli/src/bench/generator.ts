import { randomBytes, randomUUID } from 'node:crypto';
import {
  KEY_EVENT_TYPES,
  decideKey,
  evolveKey,
  initialKeyState,
  type KeyCommand,
  type KeyEvent,
  type KeyState,
  type ParentKeyView,
} from '@keyledger/domain';
import type { EventStore, NewEvent } from '@keyledger/event-store';

/**
 * Builds a realistic log straight through the event store port, with events decided by the real
 * domain deciders: tenants with a KEK each, and DEKs taken through a whole life (generate,
 * activate, uses, rotate, more uses, revoke, scheduled destruction, destruction). Material handles
 * and fingerprints are made up: no custodian is involved, since only the log is being measured.
 */
const USES_BEFORE_ROTATION = 24;
const USES_AFTER_ROTATION = 8;
const DAY = 86_400_000;

type Decided = { streamId: string; events: NewEvent[] };

const fakeMaterial = () => ({ materialRef: `sw:${randomUUID()}`, fingerprint: randomBytes(16).toString('hex') });
const metadata = (tenantId: string) => ({ actor: 'bench-generator', tenantId, correlationId: randomUUID(), causationId: null, idempotencyKey: null });
const at = (base: number, days: number) => new Date(base + days * DAY).toISOString();

class KeyScript {
  private state: KeyState = initialKeyState();
  readonly events: KeyEvent[] = [];
  run(command: KeyCommand): void {
    const decided = decideKey(command, this.state);
    this.state = decided.reduce(evolveKey, this.state);
    this.events.push(...decided);
  }
  get current(): number {
    return this.state.status === 'present' ? this.state.key.currentVersion : 0;
  }
  materialRefOf(version: number): string {
    return this.state.status === 'present' ? this.state.key.versions.find((v) => v.version === version)!.materialRef : '';
  }
}

const toNew = (tenantId: string, events: KeyEvent[]): NewEvent[] =>
  events.map((e) => ({ type: e.type, schemaVersion: KEY_EVENT_TYPES[e.type].schemaVersion, data: e.data, metadata: metadata(tenantId) }));

const uses = (tenantId: string, keyId: string, version: number, count: number, base: number): NewEvent[] =>
  Array.from({ length: count }, (_, i) => ({
    type: 'KeyUsed',
    schemaVersion: 1,
    data: { keyId, version, operation: i % 3 === 0 ? 'generate-data-key' : i % 3 === 1 ? 'encrypt' : 'decrypt', recipientId: null, usedAt: at(base, i / 24) },
    metadata: metadata(tenantId),
  }));

const kekFor = (tenantId: string, base: number): { decided: Decided; parent: ParentKeyView } => {
  const keyId = randomUUID();
  const kek = new KeyScript();
  kek.run({ type: 'GenerateKey', data: { keyId, tenantId, purpose: 'kek', algorithm: 'AES-256', custodian: 'software', parent: null, label: `${tenantId} KEK`, classifications: ['ephi'], vendors: [], cryptoperiodDays: null, material: fakeMaterial(), now: at(base, 0) } });
  kek.run({ type: 'ActivateKey', data: { now: at(base, 0) } });
  return {
    decided: { streamId: `key-${keyId}`, events: toNew(tenantId, kek.events) },
    parent: { keyId, tenantId, purpose: 'kek', version: 1, canProtect: true },
  };
};

/** About 40 events: a DEK's whole life and the uses between. */
const dekLife = (tenantId: string, parent: ParentKeyView, base: number): Decided[] => {
  const keyId = randomUUID();
  const dek = new KeyScript();
  dek.run({ type: 'GenerateKey', data: { keyId, tenantId, purpose: 'dek', algorithm: 'AES-256', custodian: 'software', parent, label: null, classifications: ['ephi', 'pii'], vendors: [], cryptoperiodDays: null, material: fakeMaterial(), now: at(base, 0) } });
  dek.run({ type: 'ActivateKey', data: { now: at(base, 0) } });
  dek.run({ type: 'RotateKey', data: { material: fakeMaterial(), parentVersion: parent.version, now: at(base, 90) } });
  dek.run({ type: 'RevokeKey', data: { reason: 'superseded', now: at(base, 180) } });
  dek.run({ type: 'ScheduleKeyDestruction', data: { version: 1, waitingPeriodDays: 7, minimumWaitingPeriodDays: 7, now: at(base, 181) } });
  const destroyedAt = at(base, 189);
  dek.run({
    type: 'DestroyKey',
    data: {
      version: 1,
      evidence: { custodian: 'software', materialRef: dek.materialRefOf(1), method: 'row erased', verifiedAbsent: true, verification: 'SELECT by ref found no row', destroyedAt },
      now: destroyedAt,
    },
  });
  return [
    { streamId: `key-${keyId}`, events: toNew(tenantId, dek.events) },
    { streamId: `key-usage-${keyId}`, events: [...uses(tenantId, keyId, 1, USES_BEFORE_ROTATION, base), ...uses(tenantId, keyId, 2, USES_AFTER_ROTATION, base + 90 * DAY)] },
  ];
};

export interface GeneratedLog {
  readonly events: number;
  readonly keys: number;
  readonly seconds: number;
}

/** Appends until at least `target` events exist, `concurrency` appends in flight (group commit). */
export const generateLog = async (
  store: EventStore,
  target: number,
  onProgress: (events: number) => void = () => undefined,
  tenants = 50,
  concurrency = 64,
): Promise<GeneratedLog> => {
  const started = process.hrtime.bigint();
  const base = Date.now() - 400 * DAY;
  const parents: ParentKeyView[] = [];
  let events = 0;
  let keys = 0;
  for (let t = 0; t < tenants; t++) {
    const { decided, parent } = kekFor(`tenant-${t}`, base);
    await store.appendToStream(decided.streamId, decided.events, 'no-stream');
    parents.push(parent);
    events += decided.events.length;
    keys += 1;
  }
  const next = (): Decided[] | null => {
    if (events >= target) return null;
    const parent = parents[keys % tenants]!;
    keys += 1;
    const life = dekLife(parent.tenantId, parent, base + (keys % 200) * DAY);
    events += life.reduce((n, d) => n + d.events.length, 0);
    return life;
  };
  const worker = async () => {
    for (let life = next(); life; life = next()) {
      for (const d of life) await store.appendToStream(d.streamId, d.events, 'no-stream');
      onProgress(events);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { events, keys, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
};
