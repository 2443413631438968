/** An async iterator that can look at its next item without taking it: the merge in the verifiers needs it. */
export class Cursor<T> {
  private readonly iterator: AsyncIterator<T>;
  private buffered: IteratorResult<T> | null = null;

  constructor(source: AsyncIterable<T>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  async peek(): Promise<T | undefined> {
    this.buffered ??= await this.iterator.next();
    return this.buffered.done ? undefined : this.buffered.value;
  }

  async next(): Promise<T | undefined> {
    const item = await this.peek();
    this.buffered = null;
    return item;
  }
}
