import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { AuditError } from '../errors.js';

/**
 * Just enough POSIX ustar to carry a bundle as one file (an HTTP download, an email attachment):
 * regular files in one folder, no links, no paths. Any tar tool reads it (`tar xf bundle.tar`).
 */
const BLOCK = 512;

/** The tar of `files` (names inside `directory`), as a stream. */
export function tarStream(directory: string, files: readonly string[], mtime = new Date()): Readable {
  return Readable.from(tarChunks(directory, files, mtime));
}

async function* tarChunks(directory: string, files: readonly string[], mtime: Date): AsyncIterable<Buffer> {
  for (const name of files) {
    const path = join(directory, name);
    const { size } = await stat(path);
    yield header(name, size, mtime);
    for await (const chunk of createReadStream(path)) yield chunk as Buffer;
    if (size % BLOCK !== 0) yield Buffer.alloc(BLOCK - (size % BLOCK));
  }
  yield Buffer.alloc(2 * BLOCK);
}

function header(name: string, size: number, mtime: Date): Buffer {
  if (Buffer.byteLength(name) > 100 || name.includes('/')) throw new RangeError(`Bad tar member name ${name}`);
  const block = Buffer.alloc(BLOCK);
  block.write(name, 0, 100, 'utf8');
  block.write(octal(0o644, 8), 100);
  block.write(octal(0, 8), 108);
  block.write(octal(0, 8), 116);
  block.write(octal(size, 12), 124);
  block.write(octal(Math.floor(mtime.getTime() / 1000), 12), 136);
  block.write('        ', 148); // the checksum is computed with its own field as spaces
  block.write('0', 156);
  block.write('ustar\u000000', 257, 'latin1');
  block.write(`${checksum(block).toString(8).padStart(6, '0')}\u0000 `, 148, 'latin1');
  return block;
}

const octal = (value: number, width: number): string => `${value.toString(8).padStart(width - 1, '0')}\u0000`;

function checksum(block: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i += 1) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum;
}

/**
 * Extracts a tar read from `chunks` into `directory`, accepting only the `allowed` names (a
 * bundle has a fixed set of files; anything else, any path, link or duplicate is refused).
 */
export async function extractTar(chunks: AsyncIterable<Buffer>, directory: string, allowed: readonly string[]): Promise<string[]> {
  const reader = new BlockReader(chunks);
  const seen: string[] = [];
  for (;;) {
    const block = await reader.take(BLOCK);
    if (!block || block.every((byte) => byte === 0)) return seen;
    const { name, size, type } = parseHeader(block);
    if (type !== '0' && type !== '\u0000') throw unreadable(`the tar holds ${name}, which is not a regular file`);
    if (!allowed.includes(name) || seen.includes(name)) throw unreadable(`the tar holds an unexpected file: ${JSON.stringify(name)}`);
    seen.push(name);
    await reader.copyTo(createWriteStream(join(directory, name), { flags: 'wx' }), size);
    await reader.take((BLOCK - (size % BLOCK)) % BLOCK);
  }
}

function parseHeader(block: Buffer): { name: string; size: number; type: string } {
  const field = (start: number, length: number) => block.subarray(start, start + length).toString('utf8').replace(/\u0000.*$/s, '');
  const stored = parseInt(field(148, 8).trim(), 8);
  if (stored !== checksum(block)) throw unreadable('a tar header has a bad checksum');
  const size = parseInt(field(124, 12).trim() || '0', 8);
  if (!Number.isSafeInteger(size) || size < 0) throw unreadable('a tar header has a bad size');
  const prefix = field(345, 155);
  const name = prefix ? `${prefix}/${field(0, 100)}` : field(0, 100);
  return { name, size, type: String.fromCharCode(block[156]!) };
}

const unreadable = (reason: string) => new AuditError('AUDIT.BUNDLE_UNREADABLE', `Not a readable audit bundle: ${reason}`);

/** Reads exact byte counts from a stream of chunks of any size. */
class BlockReader {
  private readonly iterator: AsyncIterator<Buffer>;
  private buffered: Buffer = Buffer.alloc(0);

  constructor(chunks: AsyncIterable<Buffer>) {
    this.iterator = chunks[Symbol.asyncIterator]();
  }

  /** Exactly `size` bytes, or null at the end of the stream (a truncated tar is an error). */
  async take(size: number): Promise<Buffer | null> {
    while (this.buffered.length < size) {
      const next = await this.iterator.next();
      if (next.done) {
        if (this.buffered.length === 0 && size > 0) return null;
        throw unreadable('the tar ends in the middle of a file');
      }
      this.buffered = Buffer.concat([this.buffered, next.value]);
    }
    const taken = this.buffered.subarray(0, size);
    this.buffered = this.buffered.subarray(size);
    return taken;
  }

  async copyTo(output: WriteStream, size: number): Promise<void> {
    for (let left = size; left > 0; ) {
      if (this.buffered.length === 0) await this.fill();
      const piece = this.buffered.subarray(0, Math.min(left, this.buffered.length));
      this.buffered = this.buffered.subarray(piece.length);
      left -= piece.length;
      if (!output.write(piece)) await once(output, 'drain');
    }
    output.end();
    await once(output, 'finish');
  }

  private async fill(): Promise<void> {
    const next = await this.iterator.next();
    if (next.done) throw unreadable('the tar ends in the middle of a file');
    this.buffered = next.value;
  }
}
