/**
 * An encoded frame that several sessions send as it is (a broadcast): the
 * bytes exist once. It may be pending while its payload is being compressed;
 * sessions that queued it wait for `fill()` to keep their frames in order.
 */
export class SharedFrame {
  bytes: Buffer | Buffer[] | null = null;
  /** The frame's length once filled; until then the payload's length, as an estimate for send-buffer accounting. */
  length: number;
  private waiters: Array<() => void> | null = null;

  constructor(estimatedLength: number) {
    this.length = estimatedLength;
  }

  get ready(): boolean {
    return this.bytes !== null;
  }

  fill(bytes: Buffer | Buffer[]): void {
    this.bytes = bytes;
    this.length = Array.isArray(bytes) ? bytes.reduce((sum, part) => sum + part.length, 0) : bytes.length;
    const waiters = this.waiters;
    this.waiters = null;
    if (waiters !== null) for (const waiter of waiters) waiter();
  }

  /** Calls `waiter` once the bytes are there. */
  onReady(waiter: () => void): void {
    if (this.bytes !== null) waiter();
    else (this.waiters ??= []).push(waiter);
  }
}
