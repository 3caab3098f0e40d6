import { isUtf8 } from 'node:buffer';

/** Validates a complete byte sequence as UTF-8 (native, fast). */
export function isValidUtf8(data: Uint8Array): boolean {
  return data.length === 0 || isUtf8(data);
}

/**
 * Incremental UTF-8 validator for fragmented text messages (RFC 6455 §8.1).
 * It fails at the first byte that cannot start or continue a well-formed
 * sequence (Unicode Table 3-7), even when the message is not finished, so a
 * peer is stopped in the fragment where its text went wrong.
 *
 * The bulk of each fragment is checked natively; only a code point split
 * across a fragment boundary goes through the byte-level state machine.
 */
export class Utf8StreamValidator {
  /** Continuation bytes still expected by the current code point. */
  private pending = 0;
  /** Allowed range of the next continuation byte. */
  private low = 0x80;
  private high = 0xbf;

  reset(): void {
    this.pending = 0;
    this.low = 0x80;
    this.high = 0xbf;
  }

  /** Returns false as soon as `chunk[start..end)` makes the stream invalid. */
  write(chunk: Uint8Array, start = 0, end = chunk.length): boolean {
    // Finish a code point left open by the previous fragment.
    while (this.pending > 0 && start < end) {
      if (!this.step(chunk[start++])) return false;
    }
    if (start === end) return true;
    // A few bytes (text arriving in tiny chunks) are cheaper stepped than viewed for the native check.
    const boundary = end - start <= STEP_ONLY_MAX ? start : incompleteTailStart(chunk, start, end);
    if (boundary > start && !isUtf8(chunk.subarray(start, boundary))) return false;
    for (let i = boundary; i < end; i++) {
      if (!this.step(chunk[i])) return false;
    }
    return true;
  }

  /** True when the stream ended on a code point boundary. */
  end(): boolean {
    return this.pending === 0;
  }

  private step(byte: number): boolean {
    if (this.pending > 0) {
      if (byte < this.low || byte > this.high) return false;
      this.pending--;
      this.low = 0x80;
      this.high = 0xbf;
      return true;
    }
    if (byte < 0x80) return true;
    if (byte >= 0xc2 && byte <= 0xdf) return this.expect(1, 0x80, 0xbf);
    if (byte === 0xe0) return this.expect(2, 0xa0, 0xbf); // no overlong 3-byte forms
    if (byte === 0xed) return this.expect(2, 0x80, 0x9f); // no surrogates U+D800..U+DFFF
    if (byte >= 0xe1 && byte <= 0xef) return this.expect(2, 0x80, 0xbf);
    if (byte === 0xf0) return this.expect(3, 0x90, 0xbf); // no overlong 4-byte forms
    if (byte >= 0xf1 && byte <= 0xf3) return this.expect(3, 0x80, 0xbf);
    if (byte === 0xf4) return this.expect(3, 0x80, 0x8f); // nothing above U+10FFFF
    return false;
  }

  private expect(count: number, low: number, high: number): true {
    this.pending = count;
    this.low = low;
    this.high = high;
    return true;
  }
}

/** Up to this many bytes, write() steps through them instead of creating a view for isUtf8. */
const STEP_ONLY_MAX = 16;

/**
 * Index where a trailing, possibly incomplete multi-byte sequence begins, or
 * `end` when the chunk ends on a complete sequence (or on bytes the
 * native check will reject anyway).
 */
function incompleteTailStart(chunk: Uint8Array, from: number, end: number): number {
  const floor = Math.max(from, end - 3);
  for (let i = end - 1; i >= floor; i--) {
    const byte = chunk[i];
    if ((byte & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return end - i < needed ? i : end;
  }
  return end;
}
