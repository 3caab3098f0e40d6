/**
 * Buffers cut from a shared slab, so the hot path allocates one small view per
 * packet or chunk instead of a buffer. A slab is never written twice: what was
 * cut from it belongs to its taker (dgram, which may send later; or a 'data'
 * listener, which may keep the chunk), and a used-up slab is replaced, the old
 * one living as long as someone holds a piece of it — the same trade-off as
 * Node's own socket reads.
 *
 * JavaScript is single-threaded and every room()/take() pair runs without
 * yielding, so one slab per purpose serves all connections.
 */
export class Slab {
  private buffer: Buffer;
  private offset = 0;
  private view: Buffer | null = null;

  constructor(private readonly size: number) {
    this.buffer = Buffer.allocUnsafe(size);
  }

  /** Writable room of at least `min` bytes (the same view again until take() is called). */
  room(min: number): Buffer {
    if (this.view !== null && this.view.length >= min) return this.view;
    if (this.buffer.length - this.offset < min) {
      this.buffer = Buffer.allocUnsafe(Math.max(this.size, min));
      this.offset = 0;
    }
    this.view = this.buffer.subarray(this.offset);
    return this.view;
  }

  /** The first `length` bytes of the last room(), now owned by the caller. */
  take(length: number): Buffer {
    const piece = this.buffer.subarray(this.offset, this.offset + length);
    this.offset += length;
    this.view = null;
    return piece;
  }
}

/** Outgoing packets: quiche writes one packet at a time into room(maxPacketSize). */
export const packetSlab = new Slab(512 * 1024);

/** Incoming stream data handed to 'data' listeners. */
export const readSlab = new Slab(128 * 1024);

/** Smallest room offered to streamRecv: bigger reads mean fewer, larger 'data' chunks. */
export const READ_ROOM = 16 * 1024;
