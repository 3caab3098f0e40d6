/** The transports a WebSocket can ride on. */
export type TransportName = 'http/1.1' | 'h2' | 'h3';

export interface ByteChannelEvents {
  data(chunk: Buffer): void;
  /** The channel's write buffer drained below its high-water mark. */
  drain(): void;
  /** The peer ended its direction in an orderly way (TCP FIN, END_STREAM, QUIC FIN). */
  end(): void;
  /** The channel is gone in both directions; `error` is set when it was aborted or failed. */
  close(error?: Error): void;
}

/**
 * What a transport front-end hands to the session layer once a handshake
 * succeeded: an ordered, reliable byte stream in both directions. HTTP/1.1 maps
 * it to the upgraded socket, HTTP/2 to the CONNECT stream, HTTP/3 to the
 * request stream (see DESIGN.md for the mapping of each operation).
 */
export interface ByteChannel {
  readonly transport: TransportName;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  /** Bytes accepted by `write` but not yet handed to the network. */
  readonly bufferedAmount: number;
  /** Starts delivering events, never from within `bind` itself; called once. */
  bind(events: ByteChannelEvents): void;
  /** Queues bytes in order; false means the caller should wait for `drain`. */
  write(data: Buffer | Buffer[], callback?: (error?: Error | null) => void): boolean;
  /**
   * Optional write batching: writes between cork() and uncork() leave as one
   * (writev) when the transport supports it. The session corks while it
   * handles one incoming chunk, so replies to pipelined messages share a syscall.
   */
  cork?(): void;
  uncork?(): void;
  /** Stops reading from the network (flow control reaches the peer). */
  pause(): void;
  resume(): void;
  /** Orderly end of our direction after pending writes (FIN / END_STREAM). */
  end(): void;
  /**
   * Optional, for stream transports: the WebSocket is finished in both
   * directions (close frames exchanged, our side ended) but the peer has not
   * ended its side; release the stream without signalling an error
   * (RST_STREAM(NO_ERROR), RFC 9113 §8.1; STOP_SENDING(H3_NO_ERROR)).
   */
  finish?(): void;
  /** Immediate teardown (socket destroy / RST_STREAM CANCEL / RESET_STREAM H3_REQUEST_CANCELLED). */
  abort(error?: Error): void;
}
