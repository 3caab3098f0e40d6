/**
 * Transport-independent interface of the conformance suite.
 *
 * The frame-level cases (runConformance in ./suite.ts) only talk to a
 * ConformanceTarget: something that can open a WebSocket connection to the
 * server under test and hand back a RawPeer, i.e. the byte stream AFTER a
 * successful handshake. The HTTP/1.1 implementation lives in ./http1-target.ts;
 * an HTTP/2 (RFC 8441) or HTTP/3 (RFC 9220) target only has to implement the
 * same two interfaces (open a stream with extended CONNECT, then wrap the
 * stream, e.g. with StreamPeer from ../helpers/stream-peer.ts).
 *
 * Server contract assumed by the suite:
 *  - endpoint `/echo` echoes every message with the same type (text as text,
 *    binary as binary), answers pings with pongs, replies to a close with a
 *    close echoing the status code (RFC 6455 §5.5.1), then ends the transport;
 *  - permessage-deflate is accepted when offered (unless
 *    capabilities.permessageDeflate === false);
 *  - limits are the ones declared in `limits`.
 */
import type { ServerFrame } from './frames.js';
import type { Endpoint } from './http1-raw.js';
import type { ConformanceTransport } from './report-types.js';

export type { ServerFrame } from './frames.js';

export interface HandshakeInfo {
  /** 101 for HTTP/1.1, 200 for HTTP/2 / HTTP/3 extended CONNECT */
  status: number;
  /** Sec-WebSocket-Protocol the server selected, if any */
  protocol?: string;
  /** raw Sec-WebSocket-Extensions response value (several header lines joined with ", ") */
  extensions?: string;
  /** response headers, lower-case names */
  headers: Record<string, string | string[] | undefined>;
}

/** A byte stream after a successful WebSocket handshake. */
export interface RawPeer {
  readonly handshake: HandshakeInfo;
  /**
   * Send raw bytes (already framed and masked by the caller). The promise
   * resolves once the bytes were handed to the transport (or the transport is
   * gone); it never rejects, transport failures show up in ended()/nextFrame().
   */
  write(bytes: Uint8Array): Promise<void>;
  /**
   * Resolves with the next complete frame the server sent, parsed by the
   * suite's own parser (../helpers/frames.ts). Rejects on timeout, with a
   * PeerEndedError if the transport ended and no further frame is buffered,
   * or with the parser's error if the server sent something unparseable.
   */
  nextFrame(timeoutMs?: number): Promise<ServerFrame>;
  /**
   * Resolves when the server ended the transport: 'end' for an orderly end
   * (TCP FIN for HTTP/1.1; END_STREAM / QUIC FIN later), 'reset' for an abort
   * (TCP RST, RST_STREAM, RESET_STREAM, connection error). Rejects on timeout.
   */
  ended(timeoutMs?: number): Promise<'end' | 'reset'>;
  /** orderly end of our sending side */
  end(): void;
  /** abort, release everything */
  destroy(): void;
}

export interface OpenOptions {
  /** request path, default '/echo' */
  path?: string;
  /** Sec-WebSocket-Protocol values offered */
  protocols?: string[];
  /** raw Sec-WebSocket-Extensions request value */
  extensions?: string;
  /** extra request headers */
  headers?: Record<string, string>;
}

/** open() rejects with this when the server answered the handshake with anything but success. */
export class HandshakeRejectedError extends Error {
  override name = 'HandshakeRejectedError';
  constructor(
    readonly status: number,
    readonly headers: Record<string, string | string[] | undefined>,
    message?: string,
  ) {
    super(message ?? `handshake rejected with status ${status}`);
  }
}

/** A wait that ran out (nextFrame(), ended()): the server stayed silent. */
export class WaitTimeoutError extends Error {
  override name = 'WaitTimeoutError';
}

/** nextFrame() rejects with this when the transport ended and no frame is left. */
export class PeerEndedError extends Error {
  override name = 'PeerEndedError';
  constructor(readonly how: 'end' | 'reset') {
    super(`transport ended (${how}) with no further frame`);
  }
}

export interface ConformanceTarget {
  /** shown in reports, e.g. 'trident h2' */
  name: string;
  transport: ConformanceTransport;
  /** how to reach the server below the WebSocket layer, for the handshake categories 20-22 */
  raw?: RawEndpoint;
  open(opts?: OpenOptions): Promise<RawPeer>;
  /**
   * What the server under test was configured with. Unknown (absent): sizes
   * are planned for 16 MiB messages (Autobahn's largest) and the limit cases
   * of category 30 are not run.
   */
  limits?: {
    /** largest accepted message (after decompression), in bytes */
    maxMessageSize: number;
    /** largest number of frames in one message, if the server limits it */
    maxFrames?: number;
  };
  /** close codes where RFC 6455 leaves the choice to the implementation */
  expect?: {
    /** close code for undecompressable permessage-deflate data (default: 1002 or 1007, RFC 7692 names none) */
    invalidDeflateCloseCode?: number;
    /** close code when a message has more than limits.maxFrames frames (default 1009) */
    tooManyFramesCloseCode?: number;
  };
  capabilities?: {
    /** the server negotiates permessage-deflate (default true); false skips category 12/13 */
    permessageDeflate?: boolean;
  };
  /** per-wait timeout in ms (default 2000); large transfers get a multiple */
  timeoutMs?: number;
}

/** The server's address as each handshake category needs it. */
export type RawEndpoint =
  | { kind: 'http/1.1'; endpoint: Endpoint; path: string }
  | { kind: 'h2'; origin: string; ca?: string | Buffer | undefined; insecure?: boolean; path: string }
  | { kind: 'h3'; host: string; port: number; servername: string; ca?: string | Buffer | undefined; insecure?: boolean; path: string };
