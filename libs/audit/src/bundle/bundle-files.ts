import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import type { Writable } from 'node:stream';
import { AuditError } from '../errors.js';
import { ALL_BUNDLE_FILES, BUNDLE_FILES, HASHED_FILES, type FileDigest } from './format.js';
import { extractTar, tarStream } from './tar.js';
import { verifyBundle, type BundleReport, type BundleSource, type BundleVerifyOptions } from './verify-bundle.js';

/** A bundle folder as the verifier reads it: small files whole, the JSON Lines files streamed. */
export async function openBundleDirectory(directory: string): Promise<BundleSource> {
  const digests = new Map<string, FileDigest | null>();
  for (const file of HASHED_FILES) digests.set(file, await digestOf(join(directory, file)));
  return {
    manifest: await readIfPresent(join(directory, BUNDLE_FILES.manifest)),
    manifestSignature: (await readIfPresent(join(directory, BUNDLE_FILES.manifestSignature)))?.toString('utf8') ?? null,
    publicKeyPem: (await readIfPresent(join(directory, BUNDLE_FILES.publicKey)))?.toString('utf8') ?? null,
    digests,
    lines: (file) => linesOf(join(directory, file)),
  };
}

/** Verifies a bundle folder, or a `.tar` / `.tar.gz` of one (unpacked into a temporary folder first). */
export async function verifyBundleAt(path: string, options: BundleVerifyOptions = {}): Promise<BundleReport> {
  const info = await stat(path).catch(() => null);
  if (!info) throw new AuditError('AUDIT.BUNDLE_UNREADABLE', `No bundle at ${path}`);
  if (info.isDirectory()) return verifyBundle(await openBundleDirectory(path), options);
  const unpacked = await mkdtemp(join(tmpdir(), 'keyledger-bundle-'));
  try {
    const chunks = isGzip(path) ? createReadStream(path).pipe(createGunzip()) : createReadStream(path);
    await extractTar(chunks, unpacked, ALL_BUNDLE_FILES);
    return await verifyBundle(await openBundleDirectory(unpacked), options);
  } finally {
    await rm(unpacked, { recursive: true, force: true });
  }
}

/** Writes a bundle folder as a tar (gzipped when `gzip`) to `output`. */
export async function writeBundleTar(directory: string, output: Writable, gzip: boolean): Promise<void> {
  const present = [];
  for (const file of ALL_BUNDLE_FILES) if (await stat(join(directory, file)).catch(() => null)) present.push(file);
  const tar = tarStream(directory, present);
  await (gzip ? pipeline(tar, createGzip(), output) : pipeline(tar, output));
}

export const isGzip = (path: string): boolean => /\.(tar\.gz|tgz)$/i.test(path);
export const isTar = (path: string): boolean => /\.tar$/i.test(path) || isGzip(path);

async function readIfPresent(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

async function digestOf(path: string): Promise<FileDigest | null> {
  const hash = createHash('sha256');
  let bytes = 0;
  let lines = 0;
  try {
    for await (const chunk of createReadStream(path)) {
      const buffer = chunk as Buffer;
      hash.update(buffer);
      bytes += buffer.length;
      for (const byte of buffer) if (byte === 0x0a) lines += 1;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  return { sha256: hash.digest('hex'), bytes, lines };
}

async function* linesOf(path: string): AsyncIterable<string> {
  const stream = createReadStream(path, { encoding: 'utf8' });
  try {
    yield* createInterface({ input: stream, crlfDelay: Infinity });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  } finally {
    stream.destroy();
  }
}
