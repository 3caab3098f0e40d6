import { compressOnce } from '../protocol/deflate/compress-once.js';
import type { SharedCompression } from '../protocol/deflate/per-message-deflate.js';
import { encodeFrame } from '../protocol/frame-encoder.js';
import { Opcode } from '../protocol/opcodes.js';
import { SharedFrame } from '../protocol/shared-frame.js';

/**
 * One message sent to many server sessions, framed once (RFC 6455 §5.1:
 * server frames are not masked, so every session without compression sends
 * the same bytes) and compressed once per compressor setting where
 * compression has no context takeover. Each session queues the same
 * SharedFrame: the bytes exist once however many sessions send them.
 */
export class PreparedMessage {
  readonly opcode: number;
  readonly payload: Buffer;
  /** Frames built for this message (plain and compressed): what the tests count. */
  framings = 0;
  /** Compressions started for this message, one per compressor setting. */
  compressions = 0;
  private plain: SharedFrame | null = null;
  private compressed: Map<string, SharedFrame> | null = null;

  constructor(payload: Buffer, binary: boolean) {
    this.payload = payload;
    this.opcode = binary ? Opcode.Binary : Opcode.Text;
  }

  /** The uncompressed frame, built on first use. */
  plainFrame(): SharedFrame {
    if (this.plain === null) {
      this.plain = new SharedFrame(this.payload.length);
      this.plain.fill(this.encode(this.payload, false));
    }
    return this.plain;
  }

  /** The frame compressed with `settings` (RSV1 set, RFC 7692 §6); pending until zlib answers. */
  compressedFrame(settings: SharedCompression): SharedFrame {
    const key = `${settings.windowBits}/${settings.level}/${settings.memLevel}`;
    this.compressed ??= new Map();
    let frame = this.compressed.get(key);
    if (frame !== undefined) return frame;
    const pending = new SharedFrame(this.payload.length);
    frame = pending;
    this.compressed.set(key, pending);
    this.compressions++;
    compressOnce(this.payload, settings, (error, deflated) => {
      // A message without RSV1 is an uncompressed message, which RFC 7692 §6
      // allows on a deflate session: a failed compression costs bytes, not the members.
      pending.fill(error || deflated === undefined ? this.plainFrame().bytes! : this.encode(deflated, true));
    });
    return frame;
  }

  private encode(payload: Buffer, rsv1: boolean): Buffer | Buffer[] {
    this.framings++;
    return encodeFrame(this.opcode, payload, { fin: true, rsv1, mask: false });
  }
}
