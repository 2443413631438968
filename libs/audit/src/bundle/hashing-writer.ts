import { createHash, type Hash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { FileDigest } from './format.js';

/** Writes a bundle file line by line, hashing as it goes, with backpressure. */
export class HashingWriter {
  private readonly hash: Hash = createHash('sha256');
  private readonly stream: WriteStream;
  private bytes = 0;
  private lines = 0;

  constructor(path: string) {
    this.stream = createWriteStream(path, { flags: 'wx' });
  }

  async line(text: string): Promise<void> {
    this.lines += 1;
    await this.write(`${text}\n`);
  }

  async write(text: string): Promise<void> {
    const chunk = Buffer.from(text, 'utf8');
    this.hash.update(chunk);
    this.bytes += chunk.length;
    if (!this.stream.write(chunk)) await once(this.stream, 'drain');
  }

  async close(): Promise<FileDigest> {
    this.stream.end();
    await once(this.stream, 'finish');
    return { sha256: this.hash.digest('hex'), bytes: this.bytes, lines: this.lines };
  }
}
