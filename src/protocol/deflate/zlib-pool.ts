/**
 * A small pool of idle raw-deflate zlib streams shared by sessions.
 *
 * A compressor costs ~256 KiB (15 window bits, memLevel 8) and an inflater
 * ~40 KiB, so a session that keeps them while idle pays that much for
 * nothing. Sessions without context takeover (RFC 7692 §7.1.1) need no
 * state between messages: they take a stream per message and give it back.
 * Creating a zlib stream costs ~25–35 µs of CPU against ~1 µs for a reset,
 * so given-back streams are reset and kept here for the next message of any
 * session, up to `maxIdle` in all. Streams in use at once are bounded by the
 * ZlibLimiter's concurrency, so a pool of that order serves the steady state,
 * and the idle memory it keeps does not grow with the number of sessions.
 */
import zlib from 'node:zlib';

/** Who receives a stream's output and errors while it holds the stream. */
export interface ZlibUser {
  data(chunk: Buffer): void;
  error(err: Error): void;
}

type RawStream = zlib.DeflateRaw | zlib.InflateRaw;

/** A zlib stream and its current user. */
export class PooledStream<S extends RawStream> {
  readonly stream: S;
  readonly key: string;
  user: ZlibUser | null = null;

  constructor(stream: S, key: string) {
    this.stream = stream;
    this.key = key;
    // Installed once for the stream's whole life: a late error, after its
    // user has gone, never becomes an unhandled 'error' event.
    stream.on('data', (chunk: Buffer) => this.user?.data(chunk));
    stream.on('error', (err: Error) => {
      const user = this.user;
      this.user = null;
      user?.error(err);
    });
  }
}

export interface DeflaterSettings {
  windowBits: number;
  level: number;
  memLevel: number;
}

export class ZlibPool {
  readonly maxIdle: number;
  readonly #idle = new Map<string, Array<PooledStream<RawStream>>>();
  #idleCount = 0;

  constructor(maxIdle: number) {
    if (!Number.isInteger(maxIdle) || maxIdle < 0) throw new RangeError(`ZlibPool maxIdle must be an integer >= 0, got ${String(maxIdle)}`);
    this.maxIdle = maxIdle;
  }

  /** Idle streams kept now. */
  get idle(): number {
    return this.#idleCount;
  }

  /** A compressor (its default flush is Z_SYNC_FLUSH, RFC 7692 §7.2.1) for `user`. */
  deflater(settings: DeflaterSettings, user: ZlibUser): PooledStream<zlib.DeflateRaw> {
    const key = `d${settings.windowBits}:${settings.level}:${settings.memLevel}`;
    const pooled =
      (this.#take(key) as PooledStream<zlib.DeflateRaw> | undefined) ??
      new PooledStream(zlib.createDeflateRaw({ ...settings, flush: zlib.constants.Z_SYNC_FLUSH }), key);
    pooled.user = user;
    return pooled;
  }

  /** An inflater with a window of `windowBits` for `user`. */
  inflater(windowBits: number, user: ZlibUser): PooledStream<zlib.InflateRaw> {
    const key = `i${windowBits}`;
    const pooled =
      (this.#take(key) as PooledStream<zlib.InflateRaw> | undefined) ??
      new PooledStream(zlib.createInflateRaw({ windowBits, flush: zlib.constants.Z_SYNC_FLUSH }), key);
    pooled.user = user;
    return pooled;
  }

  /**
   * Give back a stream whose last write has completed: it is reset (an empty
   * window, as a new stream) and kept, or freed when the pool is full or the
   * stream still holds data.
   */
  release(pooled: PooledStream<RawStream>): void {
    pooled.user = null;
    const { stream } = pooled;
    if (this.#idleCount >= this.maxIdle || stream.destroyed || stream.readableLength > 0 || stream.writableLength > 0) {
      stream.destroy();
      return;
    }
    stream.reset();
    const list = this.#idle.get(pooled.key);
    if (list === undefined) this.#idle.set(pooled.key, [pooled]);
    else list.push(pooled);
    this.#idleCount++;
  }

  /** Free a stream in an unknown state (failed, or dropped with a job running); it is never reused. */
  discard(pooled: PooledStream<RawStream>): void {
    pooled.user = null;
    pooled.stream.destroy();
  }

  #take(key: string): PooledStream<RawStream> | undefined {
    const pooled = this.#idle.get(key)?.pop();
    if (pooled !== undefined) this.#idleCount--;
    return pooled;
  }
}

/** The pool sessions use unless given another: at most 16 idle streams (≤ ~4 MiB) per process. */
export const sharedZlibPool = new ZlibPool(16);
