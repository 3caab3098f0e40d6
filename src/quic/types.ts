/**
 * The contract between the HTTP/3 layer and a QUIC engine. The HTTP/3 code
 * (framing, QPACK, control streams, the RFC 9220 front-end) only ever sees
 * these interfaces, so the engine behind them — today a lean driver over
 * quiche's raw binding from @matrixai/quic, tomorrow perhaps Node's own QUIC —
 * can be replaced without touching HTTP/3.
 *
 * Events are delivered synchronously from the engine's I/O processing, never
 * from inside a method call made by the user (so it is safe to write or close
 * from an event handler).
 */
import type { EventEmitter } from 'node:events';

/** QUIC stream ids are 62-bit; JavaScript numbers hold every id a real connection reaches. */
export type StreamId = number;

/**
 * One QUIC stream (RFC 9000 §2). Bidirectional streams carry HTTP/3 requests;
 * unidirectional ones carry control and QPACK streams.
 *
 * Events:
 * - 'data' (chunk: Buffer): bytes in order. Not emitted while paused.
 * - 'end' (): the peer finished its direction (FIN); all data was delivered.
 * - 'reset' (code: number): the peer sent RESET_STREAM with this application error code.
 * - 'stopSending' (code: number): the peer sent STOP_SENDING; further writes are discarded.
 * - 'drain' (): bufferedAmount fell below the high-water mark after write() returned false.
 * - 'close' (): both directions are finished (FIN or reset each way); the stream is forgotten.
 */
export interface QuicStream extends EventEmitter {
  readonly id: StreamId;
  readonly bidirectional: boolean;
  /** True when this side opened the stream. */
  readonly local: boolean;
  /** Bytes accepted by write() that quiche has not taken yet (flow control or congestion). */
  readonly bufferedAmount: number;
  /**
   * Queues bytes in order (copying is allowed, but callers may also hand over
   * buffers they will not touch again). Returns false once bufferedAmount is
   * at or above the high-water mark: wait for 'drain'.
   */
  write(data: Uint8Array, callback?: (error?: Error | null) => void): boolean;
  /** Sends FIN after everything queued. */
  end(): void;
  /** RESET_STREAM with an application error code (RFC 9000 §19.4); drops what is queued. */
  reset(code: number): void;
  /** STOP_SENDING with an application error code (RFC 9000 §19.5). */
  stopSending(code: number): void;
  /**
   * Stops delivering data and stops reading it from quiche, so the stream's
   * flow-control window is not extended and the peer is slowed down.
   */
  pause(): void;
  resume(): void;
}

export interface QuicConnectionCloseInfo {
  /** True when the application closed the connection (application error code), false for transport errors. */
  isApp: boolean;
  code: number;
  reason: string;
  /** True when we closed it, false when the peer did (or it timed out). */
  local: boolean;
  /** True for an idle timeout. */
  timedOut: boolean;
}

/**
 * One QUIC connection (client or server side).
 *
 * Events:
 * - 'stream' (stream: QuicStream): the peer opened a stream (on its first data or FIN).
 * - 'close' (info: QuicConnectionCloseInfo): the connection is gone; every stream got 'close' before.
 */
export interface QuicConnection extends EventEmitter {
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** The negotiated ALPN protocol, e.g. 'h3'. */
  readonly alpn: string;
  /** The server name the client asked for (SNI), on the server side. */
  readonly serverName: string | null;
  /** Opens a stream of our own; throws when the peer's stream limit is reached. */
  openStream(bidirectional: boolean): QuicStream;
  /** CONNECTION_CLOSE with an application error code and reason (RFC 9000 §19.19). */
  close(code: number, reason?: string): void;
}

/** Settable QUIC transport parameters (RFC 9000 §18.2) and engine knobs; all optional. */
export interface QuicTransportOptions {
  /** initial_max_data; default 16 MiB. */
  maxData?: number;
  /** initial_max_stream_data_* for every stream type; default 4 MiB. */
  maxStreamData?: number;
  /** initial_max_streams_bidi; default 1000. */
  maxStreamsBidi?: number;
  /** initial_max_streams_uni; default 100. */
  maxStreamsUni?: number;
  /** max_idle_timeout in ms; default 30 s. */
  idleTimeout?: number;
  /** Largest UDP payload we send; default 1350 (fits every path that carries IPv6 minimum MTU + tunnels). */
  maxPacketSize?: number;
  /** Largest UDP payload we send to a peer on a loopback address; default 16 KiB (the loopback MTU is 64 KiB). */
  loopbackPacketSize?: number;
  /** 'cubic' (default), 'reno' or 'bbr'. */
  congestionControl?: 'cubic' | 'reno' | 'bbr';
  /** High-water mark of a stream's write queue in bytes; default 256 KiB. */
  streamHighWaterMark?: number;
}

export interface QuicServerOptions extends QuicTransportOptions {
  cert: Uint8Array | string;
  key: Uint8Array | string;
  /** ALPN protocols offered, default ['h3']. */
  alpn?: string[];
  /** Address validation with Retry packets (RFC 9000 §8.1.2) against spoofed sources; default true. */
  retry?: boolean;
  /** Most concurrent connections; new ones beyond it are refused (CONNECTION_REFUSED); default 10,000. */
  maxConnections?: number;
  /**
   * Most connections in their handshake at once, counted apart from
   * established ones: new ones beyond it are refused (CONNECTION_REFUSED);
   * default 1,000.
   */
  maxHandshakes?: number;
  /** Most handshakes at once from one IPv4 address or IPv6 /64; default 100. */
  maxHandshakesPerAddress?: number;
  /** ms a handshake may take; then the connection is dropped without a word, as on an idle timeout; default 10 s. */
  handshakeTimeout?: number;
  /**
   * Retry packets sent per second, in all; Version Negotiation and
   * CONNECTION_REFUSED answers count against the same budget. Initials beyond
   * it get no answer (their sender retransmits after its probe timeout);
   * default 1,000.
   */
  retryRate?: number;
  /** The same per IPv4 address or IPv6 /64; default 100. */
  retryRatePerAddress?: number;
}

/** Counters of a QUIC server's defences, since it was created. */
export interface QuicServerStats {
  /** Retry packets sent (RFC 9000 §8.1.2). */
  retries: number;
  /** New connections refused with CONNECTION_REFUSED: connection or handshake limits. */
  refused: number;
  /** Handshakes dropped at handshakeTimeout. */
  handshakeTimeouts: number;
  /** Retry, Version Negotiation and refusal answers not sent (retryRate, retryRatePerAddress). */
  answersDropped: number;
}

export interface QuicClientOptions extends QuicTransportOptions {
  host: string;
  port: number;
  /** SNI and certificate name; defaults to host. */
  servername?: string;
  /** Trusted CA certificates (PEM); default: the system store is NOT used by quiche, so pass one. */
  ca?: Uint8Array | string;
  /** Verify the server certificate; default true. */
  rejectUnauthorized?: boolean;
  alpn?: string[];
  /** Handshake timeout in ms; default 10 s. */
  handshakeTimeout?: number;
}

/**
 * Events:
 * - 'connection' (connection: QuicConnection): a handshake completed.
 * - 'handshakeTimeout' (peer: { address: string; port: number }): a handshake was dropped at handshakeTimeout.
 * - 'error' (error: Error): the UDP socket failed.
 */
export interface QuicServer extends EventEmitter {
  listen(port: number, host: string): Promise<{ address: string; port: number }>;
  /** Number of live connections. */
  readonly connectionCount: number;
  /** Live connections still in their handshake (also in connectionCount). */
  readonly handshakeCount: number;
  readonly stats: Readonly<QuicServerStats>;
  /** Stops accepting; resolves when every connection is closed (call close on them first, or they are closed with NO_ERROR). */
  close(): Promise<void>;
}
