/**
 * Items that expire a fixed time after they were added, unless deleted
 * first. With one timeout for all, insertion order is deadline order, so a
 * single timer — for the oldest item — serves any number of them, and adding
 * or deleting costs a Map operation. Used for QUIC handshakes
 * (handshake-budget.ts) and HTTP/3 request header sections (../session.ts).
 */
import { performance } from 'node:perf_hooks';

export class DeadlineQueue<T> {
  /** Item → deadline (performance.now() ms), in insertion order = deadline order. */
  private readonly deadlines = new Map<T, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    /** ms; 0 = items never expire (they are still counted). */
    private readonly timeout: number,
    /** Called once per expired item, after it left the queue. */
    private readonly onExpired: (item: T) => void,
  ) {}

  get size(): number {
    return this.deadlines.size;
  }

  has(item: T): boolean {
    return this.deadlines.has(item);
  }

  add(item: T, now = performance.now()): void {
    this.deadlines.set(item, now + this.timeout);
    if (this.timer === null) this.arm(now);
  }

  delete(item: T): boolean {
    return this.deadlines.delete(item);
  }

  /** Stops the timer; items stay until deleted. */
  close(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(now: number): void {
    this.timer = null;
    if (this.timeout <= 0) return;
    for (const deadline of this.deadlines.values()) {
      this.timer = setTimeout(this.expire, Math.max(0, deadline - now));
      // The sockets keep the process alive, not pending deadlines.
      this.timer.unref();
      return;
    }
  }

  private readonly expire = (): void => {
    const now = performance.now();
    for (const [item, deadline] of this.deadlines) {
      if (deadline > now) break;
      this.deadlines.delete(item);
      this.onExpired(item);
    }
    this.arm(now);
  };
}
