/**
 * The server's two stateless secrets:
 *
 * - Retry tokens for address validation (RFC 9000 §8.1.2): the token proves
 *   the client can receive at the address it claims, so a spoofed source cannot
 *   make us spend a handshake (or amplify) on a victim. Token = version, issue
 *   time, original DCID and an HMAC over all of them plus the client's address
 *   and the connection ID our Retry chose; it is accepted for a few seconds
 *   only, which is all a Retry round trip needs (RFC 9000 §8.1.3). Binding
 *   the Retry's connection ID makes one token good for one connection:
 *   without it, a client could answer a single Retry with any number of
 *   Initials, each naming a new connection ID, and open connections without
 *   a round trip each.
 * - Stateless reset tokens (RFC 9000 §10.3): derived from the connection ID
 *   with an HMAC (§10.3.2), so after a connection is forgotten — or the process
 *   restarted with the same key — we can still produce the token for a packet
 *   that carries its connection ID, without keeping any state.
 */
import { createHmac, randomBytes, randomFillSync, timingSafeEqual } from 'node:crypto';

const TOKEN_VERSION = 1;
const MAC_LEN = 16;

export class RetryTokens {
  private readonly key: Buffer;

  constructor(
    /** Seconds a token stays valid. */
    private readonly lifetime = 10,
    key?: Uint8Array,
  ) {
    this.key = key === undefined ? randomBytes(32) : Buffer.from(key);
  }

  private mac(issued: number, odcid: Uint8Array, retryScid: Uint8Array, address: string, port: number): Buffer {
    const header = Buffer.allocUnsafe(8);
    header[0] = TOKEN_VERSION;
    header.writeUInt32BE(issued, 1);
    header.writeUInt16BE(port, 5);
    header[7] = odcid.length; // keeps odcid and retryScid apart in the MAC input
    return createHmac('sha256', this.key).update(header).update(odcid).update(retryScid).update(address).digest().subarray(0, MAC_LEN);
  }

  /**
   * version(1) | issued seconds(4) | odcid length(1) | odcid | mac(16), where
   * `retryScid` is the Source Connection ID of the Retry carrying the token —
   * the Destination Connection ID of the client's next Initial (§7.2).
   */
  mint(odcid: Uint8Array, retryScid: Uint8Array, address: string, port: number, now = Date.now()): Buffer {
    const issued = Math.floor(now / 1000) >>> 0;
    const token = Buffer.allocUnsafe(6 + odcid.length + MAC_LEN);
    token[0] = TOKEN_VERSION;
    token.writeUInt32BE(issued, 1);
    token[5] = odcid.length;
    token.set(odcid, 6);
    this.mac(issued, odcid, retryScid, address, port).copy(token, 6 + odcid.length);
    return token;
  }

  /**
   * The original DCID the token was minted for, or null when it is forged,
   * stale, for another address, or sent on an Initial whose DCID (`dcid`) is
   * not the connection ID of the Retry that carried it.
   */
  verify(token: Uint8Array, dcid: Uint8Array, address: string, port: number, now = Date.now()): Buffer | null {
    if (token.length < 6 + MAC_LEN || token[0] !== TOKEN_VERSION) return null;
    const buf = Buffer.from(token.buffer, token.byteOffset, token.length);
    const odcidLen = buf[5]!;
    if (odcidLen > 20 || token.length !== 6 + odcidLen + MAC_LEN) return null;
    const issued = buf.readUInt32BE(1);
    const age = Math.floor(now / 1000) - issued;
    if (age < -1 || age > this.lifetime) return null;
    const odcid = Buffer.from(buf.subarray(6, 6 + odcidLen));
    const expected = this.mac(issued, odcid, dcid, address, port);
    if (!timingSafeEqual(expected, buf.subarray(6 + odcidLen))) return null;
    return odcid;
  }
}

export class StatelessResets {
  private readonly key: Buffer;
  private windowStart = 0;
  private sentInWindow = 0;

  constructor(
    key?: Uint8Array,
    /** Most stateless resets sent per second: they answer unauthenticated packets. */
    private readonly perSecond = 100,
  ) {
    this.key = key === undefined ? randomBytes(32) : Buffer.from(key);
  }

  /** The 16-byte token for one of our connection IDs (RFC 9000 §10.3.2). */
  token(cid: Uint8Array): Buffer {
    return createHmac('sha256', this.key).update('stateless reset').update(cid).digest().subarray(0, 16);
  }

  /** The token as quiche's Config.setStatelessResetToken takes it: a u128 whose big-endian bytes are the token. */
  tokenBigInt(cid: Uint8Array): bigint {
    return BigInt(`0x${this.token(cid).toString('hex')}`);
  }

  /**
   * A Stateless Reset answering a short-header packet of `triggerLength`
   * bytes for connection ID `dcid`, or null when none may be sent: rate limit
   * reached, or the trigger too small for a reset that is both shorter than it
   * (no reset loops, §10.3.3) and at least 21 bytes (§10.3).
   */
  build(dcid: Uint8Array, triggerLength: number, now = Date.now()): Buffer | null {
    const length = Math.min(triggerLength - 1, 43);
    if (length < 21) return null;
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.sentInWindow = 0;
    }
    if (this.sentInWindow >= this.perSecond) return null;
    this.sentInWindow++;
    const packet = randomFillSync(Buffer.allocUnsafe(length), 0, length - 16);
    // Short header form: header form bit 0, fixed bit 1, the rest unpredictable (§10.3).
    packet[0] = (packet[0]! & 0x3f) | 0x40;
    this.token(dcid).copy(packet, length - 16);
    return packet;
  }
}
