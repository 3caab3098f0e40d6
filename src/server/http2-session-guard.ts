import http2, { type Http2Session, type ServerHttp2Stream } from 'node:http2';
import type { Logger } from 'pino';

const { NGHTTP2_REFUSED_STREAM, NGHTTP2_ENHANCE_YOUR_CALM, NGHTTP2_NO_ERROR } = http2.constants;

/** Limits one HTTP/2 connection of a server we own lives under. */
export interface Http2SessionPolicy {
  /** Streams open at once; one more is refused with RST_STREAM(REFUSED_STREAM). */
  maxConcurrentStreams: number;
  /** A new connection must open its first stream within this many ms. */
  handshakeTimeout: number;
  /** A connection with no open stream is closed after this many ms; 0 never. */
  idleTimeout: number;
  logger: Logger;
}

/**
 * nghttp2 treats a HEADERS frame beyond the acknowledged
 * SETTINGS_MAX_CONCURRENT_STREAMS as a connection error and drops every
 * stream with it, where RFC 9113 §5.1.2 asks for a stream error
 * (PROTOCOL_ERROR or REFUSED_STREAM). So connections advertise this much more
 * than the limit and `guardHttp2Session` refuses the excess itself, one
 * stream at a time (§8.7: REFUSED_STREAM means not processed, safe to retry).
 */
export function advertisedStreamLimit(maxConcurrentStreams: number): number {
  return Math.min(2 ** 31 - 1, maxConcurrentStreams + Math.max(100, maxConcurrentStreams));
}

/**
 * Streams that may end in a reset, in a burst, and per second after it: the
 * parameters of nghttp2's own rapid-reset limit. When nghttp2 reaches its limit
 * it sends GOAWAY(INTERNAL_ERROR) without telling Node, which then stops
 * reading but never closes the socket (an fd and 1-3 MB held for as long as the
 * peer likes). Counting the same resets here closes the connection when that
 * happens (RFC 9113 §5.4.1: after a connection error's GOAWAY, close the TCP
 * connection). Streams that nghttp2 closes before Node sees them escape this
 * count; their connection has no stream left and goes at the idle timeout.
 */
const RESET_BURST = 1000;
const RESETS_PER_SECOND = 33;

/**
 * Per-connection policy for HTTP/2 connections of servers we own: the
 * concurrent-stream limit as a stream error, an idle timeout, and the end of
 * connections whose streams are reset faster than nghttp2 allows.
 * Runs before any other 'stream' listener, so a refused stream reaches the
 * others already closed.
 */
export function guardHttp2Session(session: Http2Session, policy: Http2SessionPolicy): void {
  let open = 0;
  let timer: NodeJS.Timeout | null = null;
  let resetTokens = RESET_BURST;
  let lastRefill = performance.now();
  let condemned = false;
  const peer = session.socket?.remoteAddress;

  const closeIdle = (reason: string): void => {
    timer = null;
    if (session.closed || session.destroyed) return;
    policy.logger.debug({ transport: 'h2', peer, reason }, 'closing HTTP/2 connection');
    // RFC 9113 §6.8: GOAWAY(NO_ERROR) first; a peer that does not read it is cut off.
    session.close();
    setTimeout(() => session.destroy(), 1000).unref();
  };
  const arm = (ms: number, reason: string): void => {
    if (ms <= 0 || timer !== null) return;
    timer = setTimeout(closeIdle, ms, reason);
    timer.unref();
  };
  const disarm = (): void => {
    if (timer === null) return;
    clearTimeout(timer);
    timer = null;
  };
  const onReset = (): void => {
    const now = performance.now();
    resetTokens = Math.min(RESET_BURST, resetTokens + ((now - lastRefill) / 1000) * RESETS_PER_SECOND);
    lastRefill = now;
    if (--resetTokens >= 0 || condemned) return;
    condemned = true;
    policy.logger.info({ transport: 'h2', peer }, 'HTTP/2 streams reset faster than allowed: connection closed');
    // Not from here: a stream's 'close' can run inside nghttp2's input
    // processing, and destroying the session there fails a native assertion
    // in Node (node_http2.cc CheckAllocatedSize) and kills the process.
    setImmediate(() => {
      if (!session.destroyed) session.destroy(new Error('HTTP/2 streams reset faster than allowed'), NGHTTP2_ENHANCE_YOUR_CALM);
    });
  };

  // The first request must come within the handshake timeout (a preface-only
  // connection, or a header block that never ends, holds memory for nothing).
  arm(policy.handshakeTimeout, 'no request within the handshake timeout');
  session.prependListener('stream', (stream: ServerHttp2Stream) => {
    if (open >= policy.maxConcurrentStreams) {
      policy.logger.debug({ transport: 'h2', peer, stream: stream.id, open }, 'stream refused: concurrent-stream limit');
      stream.close(NGHTTP2_REFUSED_STREAM);
      return;
    }
    open++;
    disarm();
    stream.once('close', () => {
      open--;
      if (stream.rstCode !== undefined && stream.rstCode !== NGHTTP2_NO_ERROR) onReset();
      if (open === 0) arm(policy.idleTimeout, 'idle');
    });
  });
  session.once('close', disarm);
}
