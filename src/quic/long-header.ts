/**
 * The fields of a QUIC version 1 long-header packet a server needs before
 * any connection exists (RFC 9000 §17.2, and the token of an Initial,
 * §17.2.2), read in JavaScript as views of the datagram, without copies.
 * quiche's Header.fromSlice cost 5–12 µs per call in this binding, plus a few
 * µs per field read (each materialises a new Uint8Array; measured) — more
 * than everything else a refused or rate-limited Initial costs, which is
 * what a flood of them is made of.
 *
 * The views share the datagram's memory, and quiche decrypts datagrams in
 * place: copy what must outlive the call that received it.
 */

/** Long-header packet types of version 1 (RFC 9000 §17.2, Table 5). */
export const PacketType = { INITIAL: 0, ZERO_RTT: 1, HANDSHAKE: 2, RETRY: 3 } as const;

export interface LongHeader {
  version: number;
  type: number;
  dcid: Buffer;
  scid: Buffer;
  /** The token of an Initial (empty when none), null for other types. */
  token: Buffer | null;
}

/** Connection IDs of version 1 have at most 20 bytes (RFC 9000 §17.2). */
const MAX_CID_LEN = 20;

/** The header of `datagram`'s first packet, or null when it is not a well-formed long header. */
export function parseLongHeader(datagram: Buffer): LongHeader | null {
  // Header form 1 and fixed bit 1 (§17.2: packets with a fixed bit of 0 are discarded).
  if (datagram.length < 7 || (datagram[0]! & 0xc0) !== 0xc0) return null;
  const dcidLength = datagram[5]!;
  const scidAt = 6 + dcidLength;
  if (dcidLength > MAX_CID_LEN || scidAt >= datagram.length) return null;
  const scidLength = datagram[scidAt]!;
  const end = scidAt + 1 + scidLength;
  if (scidLength > MAX_CID_LEN || end > datagram.length) return null;
  const type = (datagram[0]! & 0x30) >> 4;
  let token: Buffer | null = null;
  if (type === PacketType.INITIAL) {
    if (end >= datagram.length) return null;
    // Token Length, a variable-length integer (§16); a token longer than the datagram is malformed.
    const prefix = datagram[end]! >> 6;
    const size = 1 << prefix;
    if (end + size > datagram.length) return null;
    let length = datagram[end]! & 0x3f;
    for (let i = 1; i < size; i++) length = length * 256 + datagram[end + i]!;
    if (end + size + length > datagram.length) return null;
    token = datagram.subarray(end + size, end + size + length);
  }
  return {
    version: datagram.readUInt32BE(1),
    type,
    dcid: datagram.subarray(6, scidAt),
    scid: datagram.subarray(scidAt + 1, end),
    token,
  };
}
