import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { transformFileSync } from '@swc/core';
import type { RecordedEvent } from '@keyledger/event-store';
import { SqliteEventStore } from './sqlite-event-store.js';

/**
 * SPEC §10 crash bar at the store level: a writer process killed with SIGKILL under load loses no
 * acknowledged append and leaves no torn one. The writer runs the real adapter, compiled here to
 * CommonJS because a child process cannot load TypeScript.
 */
const appendSize = 3;
const writers = 8;
const acknowledgementsBeforeKill = 300;

interface Acknowledgement {
  readonly streamId: string;
  readonly revision: number;
  readonly position: number;
}

describe('SqliteEventStore killed mid-write', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keyledger-crash-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps every acknowledged append and no partial one', async () => {
    const buildDir = await compileAdapter(join(dir, 'build'));
    const filePath = join(dir, 'events.sqlite');

    const acknowledged = await runWriterUntilKilled(buildDir, filePath);

    const store = SqliteEventStore.open(filePath);
    try {
      expect(store.database.pragma('integrity_check', { simple: true })).toBe('ok');
      const all = await store.readAll();
      expectEveryAcknowledgementStored(acknowledged, all);
      expectWholeAppendsOnly(all);
    } finally {
      await store.close();
    }
  });
});

function expectEveryAcknowledgementStored(acknowledged: readonly Acknowledgement[], all: readonly RecordedEvent[]): void {
  expect(acknowledged.length).toBeGreaterThanOrEqual(acknowledgementsBeforeKill);
  const byPosition = new Map(all.map((event) => [event.position, event]));
  const missing = acknowledged.filter(({ streamId, revision, position }) => {
    const stored = byPosition.get(position);
    return stored?.streamId !== streamId || stored.revision !== revision;
  });
  expect(missing).toEqual([]);
}

/** Each stream holds whole appends: revisions 0..n-1 with n a multiple of the append size, in order. */
function expectWholeAppendsOnly(all: readonly RecordedEvent[]): void {
  const streams = new Map<string, RecordedEvent[]>();
  for (const event of all) streams.set(event.streamId, [...(streams.get(event.streamId) ?? []), event]);
  expect(streams.size).toBe(writers);
  for (const events of streams.values()) {
    expect(events.length % appendSize).toBe(0);
    expect(events.map((event) => event.revision)).toEqual(events.map((_, index) => index));
    expect(events.map((event) => event.data)).toEqual(
      events.map((_, index) => ({ append: Math.floor(index / appendSize), part: index % appendSize })),
    );
  }
}

/** Starts the writer, SIGKILLs it once enough appends were acknowledged, and returns those. */
async function runWriterUntilKilled(buildDir: string, filePath: string): Promise<Acknowledgement[]> {
  const child = spawn(process.execPath, ['-e', writerScript], {
    env: { ...process.env, NODE_PATH: resolve('node_modules'), BUILD_DIR: buildDir, DB_PATH: filePath },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const acknowledged: Acknowledgement[] = [];
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const lines = (buffered + chunk.toString()).split('\n');
    buffered = lines.pop() ?? ''; // an unfinished line was not acknowledged in full
    acknowledged.push(...lines.map(parseAcknowledgement));
    if (acknowledged.length >= acknowledgementsBeforeKill) child.kill('SIGKILL');
  });
  const signal = await new Promise<NodeJS.Signals | null>((done) => child.on('exit', (_code, killedBy) => done(killedBy)));
  expect(signal).toBe('SIGKILL');
  return acknowledged;
}

function parseAcknowledgement(line: string): Acknowledgement {
  const [streamId, revision, position] = line.split(' ');
  return { streamId: streamId!, revision: Number(revision), position: Number(position) };
}

/** Writers append forever, printing each acknowledged append's last event only after it resolved. */
const writerScript = `
  const { SqliteEventStore } = require(process.env.BUILD_DIR + '/event-store-sqlite/index.js');
  const store = SqliteEventStore.open(process.env.DB_PATH);
  const metadata = { actor: 'system:crash-test', tenantId: null, correlationId: 'c', causationId: null, idempotencyKey: null };
  async function write(streamId) {
    let expected = 'no-stream';
    for (let append = 0; ; append++) {
      const events = [0, 1, 2].map((part) => ({ type: 'Part', schemaVersion: 1, data: { append, part }, metadata }));
      const result = await store.appendToStream(streamId, events, expected);
      expected = result.nextExpectedRevision;
      process.stdout.write(streamId + ' ' + result.nextExpectedRevision + ' ' + result.lastPosition + '\\n');
      // A pause after each acknowledgement gives the kill time to land between an ack and the next
      // write, where a store that acknowledged before committing would lose the acknowledged append.
      await new Promise((resume) => setTimeout(resume, 2));
    }
  }
  for (let i = 0; i < ${writers}; i++) write('crash-' + i);
`;

/** Compiles the port and the adapter to CommonJS with the alias rewritten to a relative path. */
async function compileAdapter(buildDir: string): Promise<string> {
  const libs = resolve('libs');
  for (const lib of ['event-store', 'event-store-sqlite']) {
    await mkdir(join(buildDir, lib), { recursive: true });
    const sources = (await readdir(join(libs, lib, 'src'))).filter((file) => file.endsWith('.ts') && !file.includes('.spec.'));
    for (const source of sources) {
      const { code } = transformFileSync(join(libs, lib, 'src', source), {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'commonjs' },
      });
      const rewritten = code.replaceAll('"@keyledger/event-store"', '"../event-store/index.js"');
      await writeFile(join(buildDir, lib, source.replace(/\.ts$/, '.js')), rewritten);
    }
  }
  return buildDir;
}
