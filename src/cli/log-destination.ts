import type { Writable } from 'node:stream';

/** Log bytes that may wait for a slow stdout reader; later lines are dropped. */
const MAX_QUEUED_BYTES = 4 * 1024 * 1024;

/**
 * Where the binary's JSON log lines go: stdout, written so that nothing about
 * its reader can keep the process from exiting.
 *
 * Why not pino's default destination (sonic-boom on fd 1): it writes from
 * libuv's thread pool and flushes synchronously in a process 'exit' hook.
 * When the reader has gone away, that flush retries EPIPE every 100 ms
 * forever (sonic-boom 4 retries every write error but EAGAIN), so the
 * process hangs after its 'exit'; when the reader is alive but stopped, the
 * pool thread blocks in write(2) on the full pipe and exit() waits to join it.
 *
 * process.stdout on a pipe or socket is a non-blocking libuv stream: nothing
 * blocks, a broken pipe surfaces as an 'error' event, and process.exit()
 * abandons what is still queued. On a file or terminal it writes synchronously,
 * which never waits on a reader.
 */
export class LogDestination {
  private broken = false;

  constructor(
    private readonly out: Writable = process.stdout,
    private readonly maxQueuedBytes = MAX_QUEUED_BYTES,
  ) {
    // EPIPE and friends: the reader is gone for good; stop writing, never crash.
    out.on('error', () => {
      this.broken = true;
    });
  }

  write(line: string): void {
    if (this.broken || this.out.destroyed) return;
    // A reader that stopped reading must not grow memory without bound.
    if (this.out.writableLength > this.maxQueuedBytes) return;
    this.out.write(line);
  }

  /**
   * Resolves once the queued lines reached the OS, the reader turned out to be
   * gone, or `timeoutMs` passed, whichever comes first: the last lines get a
   * chance before exit, and a stuck reader cannot hold the exit back.
   */
  settle(timeoutMs: number): Promise<void> {
    if (this.broken || this.out.destroyed || this.out.writableLength === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.out.off('drain', done);
        this.out.off('error', done);
        this.out.off('close', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.out.once('drain', done);
      this.out.once('error', done);
      this.out.once('close', done);
    });
  }
}
