/**
 * The bytes a Receiver has been given but not yet consumed, kept as the chunks
 * they arrived in. Every operation is linear in the bytes it touches plus the
 * chunks it steps over, whatever the chunking: consumed chunks are passed by
 * advancing an index (an array `shift()` per chunk made a payload delivered in
 * n chunks cost O(n²): 128K one-byte HTTP/2 DATA frames took seconds), and the
 * array is compacted only when the consumed prefix is at least as long as
 * what remains, so compaction costs O(1) per chunk on average.
 *
 * Small chunks that arrive while bytes are pending (one-byte DATA frames, a
 * header split over several reads) are copied into a tail buffer
 * instead of being queued one by one: a queued chunk costs ~100 bytes of
 * objects, so 1 MiB in one-byte chunks would otherwise hold ~100 MiB.
 */
export class ChunkQueue {
  /** `items[head]` onward are pending; `offset` bytes of `items[head]` are consumed. */
  private readonly items: Buffer[];
  private head = 0;
  private offset = 0;
  private size = 0;
  /** Where small chunks are gathered; the last item is a view of `tail` while `tailOpen`. */
  private tail: Buffer | null = null;
  private tailStart = 0;
  private tailEnd = 0;
  private tailOpen = false;
  /**
   * The last item's view of the tail is behind `tailEnd`: it is refreshed only
   * when the items are read (a view costs ~190 ns, ten times the 1-byte copy).
   */
  private tailStale = false;
  /** scanTo's cursor: `scanned` pending bytes were visited, up to `items[scanIndex]` at `scanOffset`. */
  private scanned = 0;
  private scanIndex = 0;
  private scanOffset = 0;

  /** `items` is a seam for tests that count the work done on the array; it must be empty. */
  constructor(items: Buffer[] = []) {
    this.items = items;
  }

  /** Pending bytes. */
  get length(): number {
    return this.size;
  }

  push(chunk: Buffer): void {
    const n = chunk.length;
    if (n === 0) return;
    if (this.size > 0 && n <= COALESCE_MAX) this.append(chunk);
    else {
      if (this.tailStale) this.refreshTail();
      this.items.push(chunk);
      this.tailOpen = false;
    }
    this.size += n;
  }

  /** The first pending chunk and where its pending bytes start (only when `length > 0`). */
  first(): Buffer {
    if (this.tailStale) this.refreshTail();
    return this.items[this.head];
  }

  get firstOffset(): number {
    return this.offset;
  }

  /**
   * Calls `visit(chunk, start, end, copied, context)` for consecutive pieces
   * `chunk[start..end)` of the first `length` pending bytes (`copied` bytes came
   * before the piece), without consuming them. The context argument spares a
   * closure per call on the paths that run per frame.
   */
  forEachPiece<C>(length: number, visit: PieceVisitor<C>, context: C): void {
    if (this.tailStale) this.refreshTail();
    let copied = 0;
    let offset = this.offset;
    for (let i = this.head; copied < length; i++) {
      const chunk = this.items[i];
      const n = Math.min(chunk.length - offset, length - copied);
      visit(chunk, offset, offset + n, copied, context);
      copied += n;
      offset = 0;
    }
  }

  /**
   * forEachPiece for the part of the first `length` pending bytes that no
   * earlier scanTo visited since the last skip or clear: a receiver can look at
   * a frame's payload while it arrives, each byte once, before consuming it.
   */
  scanTo<C>(length: number, visit: PieceVisitor<C>, context: C): void {
    let copied = this.scanned;
    if (copied >= length) return;
    const items = this.items;
    let i = copied === 0 ? this.head : this.scanIndex;
    let offset = copied === 0 ? this.offset : this.scanOffset;
    while (copied < length) {
      // The open tail is read from its buffer, not through the item's view: a
      // refreshed view per call would cost more than the byte it shows.
      const inTail = this.tailOpen && i === items.length - 1;
      const chunk = inTail ? this.tail! : items[i];
      const base = inTail ? this.tailStart : 0;
      const size = inTail ? this.tailEnd - base : chunk.length;
      // Step to the next chunk only when more bytes are wanted: the tail may still grow.
      if (offset === size) {
        i++;
        offset = 0;
        continue;
      }
      const n = Math.min(size - offset, length - copied);
      visit(chunk, base + offset, base + offset + n, copied, context);
      copied += n;
      offset += n;
    }
    this.scanned = copied;
    this.scanIndex = i;
    this.scanOffset = offset;
  }

  /** Pending bytes scanTo has visited since the last skip or clear. */
  get scannedLength(): number {
    return this.scanned;
  }

  /** Copies the first `length` pending bytes into `target` without consuming them. */
  copyOut(target: Buffer, length: number): void {
    this.forEachPiece(length, copyPiece, target);
  }

  /** Consumes `length` pending bytes. */
  skip(length: number): void {
    this.size -= length;
    this.scanned = 0;
    if (this.size === 0) {
      this.clear();
      return;
    }
    if (this.tailStale) this.refreshTail();
    const items = this.items;
    let head = this.head;
    let offset = this.offset + length;
    while (offset >= items[head].length) {
      offset -= items[head].length;
      head++;
    }
    this.head = head;
    this.offset = offset;
    // Drop the consumed prefix once it outweighs the rest: each chunk is moved
    // at most once per doubling, O(1) amortized.
    if (head >= COMPACT_MIN && head * 2 >= items.length) {
      items.copyWithin(0, head);
      items.length -= head;
      this.head = 0;
    }
  }

  /** Forgets every pending byte. */
  clear(): void {
    const items = this.items;
    // The common case, one chunk holding whole frames: pop() is V8's fast path, `length = 0` is not.
    if (items.length === 1) items.pop();
    else items.length = 0;
    this.head = 0;
    this.offset = 0;
    this.size = 0;
    this.scanned = 0;
    // Idle sessions keep no tail (views handed out keep what they need alive).
    this.tail = null;
    this.tailOpen = false;
    this.tailStale = false;
  }

  private append(chunk: Buffer): void {
    const n = chunk.length;
    let tail = this.tail;
    if (tail === null || this.tailEnd + n > tail.length) {
      if (this.tailStale) this.refreshTail();
      // Views already handed out keep the old tail alive; it is never written again.
      tail = this.tail = Buffer.allocUnsafe(TAIL_SIZE);
      this.tailEnd = 0;
      this.tailOpen = false;
    }
    if (!this.tailOpen) {
      this.tailStart = this.tailEnd;
      this.items.push(EMPTY);
      this.tailOpen = true;
    }
    // Only bytes past tailEnd are ever written, so views of earlier bytes stay valid.
    const end = this.tailEnd;
    if (n <= BYTE_LOOP_MAX) {
      for (let i = 0; i < n; i++) tail[end + i] = chunk[i];
    } else {
      chunk.copy(tail, end);
    }
    this.tailEnd = end + n;
    this.tailStale = true;
  }

  private refreshTail(): void {
    this.tailStale = false;
    this.items[this.items.length - 1] = this.tail!.subarray(this.tailStart, this.tailEnd);
  }
}

export type PieceVisitor<C> = (chunk: Buffer, start: number, end: number, copied: number, context: C) => void;

function copyPiece(chunk: Buffer, start: number, end: number, copied: number, target: Buffer): void {
  chunk.copy(target, copied, start, end);
}

const EMPTY = Buffer.alloc(0);
/** Chunks up to this size are gathered into the tail when bytes are pending. */
const COALESCE_MAX = 256;
/** Below Buffer.poolSize / 2, so a tail is a cheap slice of Node's shared pool. */
const TAIL_SIZE = 2048;
/** Up to this size a byte loop beats Buffer#copy (1 byte: ~26 vs ~73 ns). */
const BYTE_LOOP_MAX = 16;
/** Consumed chunks below this many are not worth compacting away. */
const COMPACT_MIN = 64;
