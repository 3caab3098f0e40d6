/**
 * A stateless CONNECTION_CLOSE in a server Initial packet, to refuse a new
 * connection (CONNECTION_REFUSED, RFC 9000 §5.2.2, §10.2.3) without a quiche
 * connection: quiche 0.18, asked to close right after the ClientHello, puts its
 * CONNECTION_CLOSE in a Handshake packet the client cannot decrypt yet
 * (measured), so the client would wait for its handshake timeout.
 *
 * Initial packets are protected with keys derived from the client's
 * Destination Connection ID, which anyone can compute (RFC 9001 §5.2): the
 * AEAD is AES-128-GCM, header protection AES-128-ECB (§5.4.3).
 */
import { createCipheriv, createHmac, randomFillSync } from 'node:crypto';

/** initial_salt of QUIC version 1 (RFC 9001 §5.2). */
const INITIAL_SALT_V1 = Buffer.from('38762cf7f55934b34d179ae6a4c80cadccbb7f0a', 'hex');

/** HKDF-Expand-Label (RFC 8446 §7.1) with an empty context, for outputs of at most 32 bytes. */
function expandLabel(secret: Buffer, label: string, length: number): Buffer {
  const fullLabel = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.alloc(2 + 1 + fullLabel.length + 1);
  info.writeUInt16BE(length, 0);
  info[2] = fullLabel.length;
  fullLabel.copy(info, 3);
  info[3 + fullLabel.length] = 0; // empty context
  // HKDF-Expand (RFC 5869 §2.3): one block suffices for length <= 32.
  return createHmac('sha256', secret).update(info).update(Buffer.from([1])).digest().subarray(0, length);
}

function varint(value: number): Buffer {
  if (value < 0x40) return Buffer.from([value]);
  if (value < 0x4000) return Buffer.from([0x40 | (value >> 8), value & 0xff]);
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value, 0);
  out[0]! |= 0x80;
  return out;
}

/**
 * The datagram answering a client Initial (version 1) whose DCID is `dcid` and
 * SCID `scid` with CONNECTION_CLOSE (frame type 0x1c) carrying the transport
 * `errorCode` and `reason`.
 */
export function initialConnectionClose(dcid: Uint8Array, scid: Uint8Array, errorCode: number, reason: string): Buffer {
  const initialSecret = createHmac('sha256', INITIAL_SALT_V1).update(dcid).digest(); // HKDF-Extract
  const serverSecret = expandLabel(initialSecret, 'server in', 32);
  const key = expandLabel(serverSecret, 'quic key', 16);
  const iv = expandLabel(serverSecret, 'quic iv', 12);
  const hp = expandLabel(serverSecret, 'quic hp', 16);

  const reasonBytes = Buffer.from(reason, 'utf8').subarray(0, 200);
  let payload = Buffer.concat([Buffer.from([0x1c]), varint(errorCode), varint(0), varint(reasonBytes.length), reasonBytes]);
  // Enough bytes after the packet number for the header-protection sample (§5.4.2).
  if (payload.length < 4) payload = Buffer.concat([payload, Buffer.alloc(4 - payload.length)]);

  const ourCid = randomFillSync(Buffer.alloc(8));
  const packetNumber = 0;
  const length = 1 + payload.length + 16; // packet number + payload + AEAD tag
  const header = Buffer.concat([
    Buffer.from([0xc0]), // long header, fixed bit, type Initial, 1-byte packet number
    Buffer.from([0, 0, 0, 1]), // version 1
    Buffer.from([scid.length]),
    scid, // the client's SCID is our DCID
    Buffer.from([ourCid.length]),
    ourCid,
    varint(0), // no token
    Buffer.from([0x40 | (length >> 8), length & 0xff]), // Length, two-byte varint
    Buffer.from([packetNumber]),
  ]);
  const pnOffset = header.length - 1;

  const nonce = Buffer.from(iv);
  nonce[11]! ^= packetNumber;
  const aead = createCipheriv('aes-128-gcm', key, nonce);
  aead.setAAD(header);
  const ciphertext = Buffer.concat([aead.update(payload), aead.final(), aead.getAuthTag()]);
  const packet = Buffer.concat([header, ciphertext]);

  const sample = packet.subarray(pnOffset + 4, pnOffset + 20);
  const ecb = createCipheriv('aes-128-ecb', hp, null);
  const mask = ecb.update(sample);
  packet[0]! ^= mask[0]! & 0x0f;
  packet[pnOffset]! ^= mask[1]!;
  return packet;
}
