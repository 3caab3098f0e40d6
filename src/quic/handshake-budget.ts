/**
 * The budget of connections still in their handshake: at most `max` at once,
 * at most `perSource` from one source (sourceKey(): an IPv4 address or an
 * IPv6 /64), each for at most `timeout` ms. It is separate from the cap on all
 * connections, so clients that go silent after their first flight — one UDP
 * socket can complete Retry for thousands of connections and never answer
 * again — hold a small share of the server for a short time and cannot lock
 * out new clients or the established ones (RFC 9000 §21.6: limit the
 * connections one address may make and how long they may stay).
 */
import { DeadlineQueue } from './deadline-queue.js';

export interface HandshakeLimits {
  max: number;
  perSource: number;
  /** ms */
  timeout: number;
}

export class HandshakeBudget<T> {
  private readonly pending: DeadlineQueue<T>;
  private readonly sourceOf = new Map<T, string>();
  private readonly perSource = new Map<string, number>();

  constructor(
    private readonly limits: HandshakeLimits,
    /** The handshake timed out (already released): end it. */
    onExpired: (item: T) => void,
  ) {
    this.pending = new DeadlineQueue(limits.timeout, (item) => {
      this.release(item);
      onExpired(item);
    });
  }

  get size(): number {
    return this.pending.size;
  }

  /** Why a new handshake from `source` does not fit, or null when it does. */
  refusal(source: string): string | null {
    if (this.pending.size >= this.limits.max) return 'handshake limit reached';
    if ((this.perSource.get(source) ?? 0) >= this.limits.perSource) return 'handshake limit for this address reached';
    return null;
  }

  /** Counts `item` (checked with refusal() first) until release() or its deadline. */
  admit(item: T, source: string): void {
    this.pending.add(item);
    this.sourceOf.set(item, source);
    this.perSource.set(source, (this.perSource.get(source) ?? 0) + 1);
  }

  /** The handshake completed or the connection ended; a no-op for items not counted. */
  release(item: T): void {
    const source = this.sourceOf.get(item);
    if (source === undefined) return;
    this.sourceOf.delete(item);
    this.pending.delete(item);
    const left = this.perSource.get(source)! - 1;
    if (left === 0) this.perSource.delete(source);
    else this.perSource.set(source, left);
  }

  close(): void {
    this.pending.close();
  }
}
