/**
 * Token buckets for the answers a server gives to datagrams no connection owns
 * — Retry (RFC 9000 §8.1.2), Version Negotiation (§6) and CONNECTION_REFUSED
 * (§5.2.2). Each costs a header parse, an HMAC or AEAD and a sendmsg, and one
 * unauthenticated datagram is enough to trigger it, so an Initial flood would
 * otherwise turn into as much work as the attacker can send (§21.2: a server
 * should make the work a spoofed Initial causes small). Answers beyond a
 * bucket are not sent; the client's Initial is retransmitted after its probe
 * timeout (RFC 9002 §6.2), so a real client is only delayed.
 *
 * One global bucket bounds the total, spoofed sources included; a bucket per
 * source keeps one source from taking all of it. Source buckets live in a
 * fixed table indexed by a hash of the source, so a flood from random
 * (spoofed) sources cannot grow memory; sources that share a slot share a
 * bucket, which can only make the limit stricter for them.
 */
import { performance } from 'node:perf_hooks';

/** A bucket of `burst` tokens refilled at `rate` per second (both ≥ 1). */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number = rate,
    now = performance.now(),
  ) {
    this.tokens = burst;
    this.last = now;
  }

  /** Refills for the time since the last call; true when a token is left (not taken). */
  peek(now: number): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000);
    this.last = now;
    return this.tokens >= 1;
  }

  take(): void {
    this.tokens -= 1;
  }
}

/** Slots of the per-source table: 4096 × 16 bytes. */
const SOURCE_SLOTS = 4096;

export class AnswerLimiter {
  private readonly global: TokenBucket;
  /** Per slot: tokens, then the time of the last refill. */
  private readonly slots = new Float64Array(SOURCE_SLOTS * 2);

  constructor(
    rate: number,
    private readonly perSourceRate: number,
    now = performance.now(),
  ) {
    this.global = new TokenBucket(rate, rate, now);
    for (let i = 0; i < SOURCE_SLOTS; i++) {
      this.slots[2 * i] = perSourceRate;
      this.slots[2 * i + 1] = now;
    }
  }

  /** Whether one more answer may go to `source` (a sourceKey()); takes a token from both buckets if so. */
  allow(source: string, now = performance.now()): boolean {
    const slot = 2 * (hash(source) & (SOURCE_SLOTS - 1));
    const slots = this.slots;
    const rate = this.perSourceRate;
    const tokens = Math.min(rate, slots[slot]! + ((now - slots[slot + 1]!) * rate) / 1000);
    slots[slot] = tokens;
    slots[slot + 1] = now;
    if (tokens < 1 || !this.global.peek(now)) return false;
    slots[slot] = tokens - 1;
    this.global.take();
    return true;
  }
}

/** FNV-1a over the string's UTF-16 code units. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * The unit per-source limits count in: an IPv4 address (also IPv4-mapped
 * IPv6), or the /64 prefix of an IPv6 address — one IPv6 host usually holds a
 * whole /64 (RFC 4291 §2.5.1, RFC 6177 §2), so counting single addresses
 * would let it open as many budgets as it likes.
 */
export function sourceKey(address: string): string {
  if (!address.includes(':')) return address;
  const bare = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
  if (!bare.includes(':')) return bare;
  const [head = '', tail] = bare.split('%', 1)[0]!.split('::', 2);
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : new Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0');
  const prefix = [...left, ...zeros, ...right].slice(0, 4);
  return `${prefix.map((group) => group.replace(/^0+(?=.)/, '').toLowerCase()).join(':')}::/64`;
}
