/**
 * Plain-number counters that sessions bump as they work, read lazily (on a
 * metrics scrape). A session is given one shared object per transport, or
 * none when metrics are off: then every count is skipped by one null check,
 * and with them on a count is a property increment, nothing per-message
 * allocates or calls into a metrics library.
 */
export class SessionCounters {
  /** Complete messages delivered to the application, and their payload bytes (after decompression). */
  messagesReceived = 0;
  bytesReceived = 0;
  /** Messages sent (counted at their final fragment), and payload bytes (before compression). */
  messagesSent = 0;
  bytesSent = 0;
  /** Times the transport refused more bytes (a write returned false) until its 'drain'. */
  backpressurePauses = 0;
  /** Sessions ended because the peer stayed silent for a heartbeat interval. */
  heartbeatTerminations = 0;
  /** permessage-deflate (RFC 7692): bytes into and out of the compressor and the decompressor. */
  compressInputBytes = 0;
  compressOutputBytes = 0;
  decompressInputBytes = 0;
  decompressOutputBytes = 0;
  /** Close frames by status code (1005 for a close frame without a code, RFC 6455 §7.1.5). */
  readonly closeCodesSent = new Map<number, number>();
  readonly closeCodesReceived = new Map<number, number>();
}

export function countCloseCode(codes: Map<number, number>, code: number): void {
  codes.set(code, (codes.get(code) ?? 0) + 1);
}
