/** A job gets `release`, to call once when its zlib work is over. */
export type LimiterJob = (release: () => void) => void;

/** Handle on a scheduled job. */
export interface LimiterTicket {
  /**
   * Withdraw the job: if still queued it will never run (and its closure is
   * dropped now); if running, its slot is released. Idempotent.
   */
  cancel(): void;
}

const QUEUED = 0;
const RUNNING = 1;
const FINISHED = 2;

class LimiterEntry implements LimiterTicket {
  state = QUEUED;
  job: LimiterJob | null;
  readonly release = (): void => this.limiter.finish(this);

  constructor(
    private readonly limiter: ZlibLimiter,
    job: LimiterJob,
  ) {
    this.job = job;
  }

  cancel(): void {
    this.limiter.finish(this);
  }
}

/**
 * A FIFO of zlib jobs of which at most `concurrency` run at once, shared by
 * all sessions of a server (or all clients). Each zlib write is a job on
 * libuv's small thread pool; without a bound, thousands of sessions
 * compressing at once queue thousands of jobs, each holding its buffers, and
 * fragment memory badly (the problem `ws` documents in its issue #1202).
 */
export class ZlibLimiter {
  readonly concurrency: number;
  #running = 0;
  #queued = 0;
  /** Queue with a moving head, so that dequeuing is O(1). */
  #queue: Array<LimiterEntry | undefined> = [];
  #head = 0;
  #draining = false;

  constructor(concurrency: number) {
    if (concurrency !== Infinity && (!Number.isInteger(concurrency) || concurrency < 1)) {
      throw new RangeError(`ZlibLimiter concurrency must be a positive integer, got ${String(concurrency)}`);
    }
    this.concurrency = concurrency;
  }

  /** Jobs running now. */
  get running(): number {
    return this.#running;
  }

  /** Jobs waiting for a slot (cancelled ones excluded). */
  get queued(): number {
    return this.#queued;
  }

  /** Queue `job`; it runs (synchronously, if a slot is free) when a slot is free. */
  schedule(job: LimiterJob): LimiterTicket {
    const entry = new LimiterEntry(this, job);
    this.#queue.push(entry);
    this.#queued++;
    this.#drain();
    return entry;
  }

  /** @internal Release or withdraw an entry (idempotent). */
  finish(entry: LimiterEntry): void {
    const state = entry.state;
    entry.state = FINISHED;
    entry.job = null;
    if (state === QUEUED) {
      this.#queued--;
    } else if (state === RUNNING) {
      this.#running--;
      this.#drain();
    }
  }

  #drain(): void {
    // A job may release synchronously, which calls #drain again: the flag
    // turns that recursion into iterations of the loop below.
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (this.#running < this.concurrency && this.#head < this.#queue.length) {
        const entry = this.#queue[this.#head]!;
        this.#queue[this.#head++] = undefined;
        if (entry.state !== QUEUED) continue; // cancelled while queued
        const job = entry.job!;
        entry.state = RUNNING;
        this.#queued--;
        this.#running++;
        try {
          job(entry.release);
        } catch (err) {
          entry.release();
          throw err;
        }
      }
    } finally {
      this.#draining = false;
      if (this.#head === this.#queue.length) {
        this.#queue.length = 0;
        this.#head = 0;
      } else if (this.#head >= 1024 && this.#head * 2 >= this.#queue.length) {
        this.#queue.splice(0, this.#head);
        this.#head = 0;
      }
    }
  }
}
