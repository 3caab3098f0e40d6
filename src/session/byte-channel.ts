/** The transports a WebSocket can ride on. */
export type TransportName = 'http/1.1' | 'h2' | 'h3';

export type WriteCallback = (error?: Error | null) => void;

export interface ByteChannelEvents {
  /** Bytes from the peer, in order. Never while paused, never after 'end' or 'close'. */
  data(chunk: Buffer): void;
  /** After a write() returned false: the channel takes more again. */
  drain(): void;
  /** The peer ended its direction in an orderly way (TCP FIN, END_STREAM, QUIC FIN); at most once. */
  end(): void;
  /**
   * The channel is gone in both directions; exactly once, last. `error` is
   * set when it did not end in an orderly way: our abort (with its error), the
   * peer's abort (TCP RST, RST_STREAM, RESET_STREAM/STOP_SENDING), a failure.
   */
  close(error?: Error): void;
}

/**
 * What a transport front-end hands to the session layer once a handshake
 * succeeded: an ordered, reliable byte stream in both directions. HTTP/1.1 maps
 * it to the upgraded socket, HTTP/2 to the CONNECT stream, HTTP/3 to the
 * request stream (see DESIGN.md for the mapping of each operation).
 *
 * THE CONTRACT. Every channel obeys it, and the session relies on nothing else;
 * test/session/channel-contract.ts checks it for every channel over real
 * loopback connections.
 *
 * 1. Events never fire from inside a method call or from inside bind(); they
 *    start on a later tick. 'close' comes exactly once and nothing follows it.
 * 2. write() never throws on a channel's state. Bytes leave in write order.
 *    It returns false when the channel's buffer reached its high-water mark;
 *    then, and only then, 'drain' follows once the buffer fell below it —
 *    unless the channel closes first. After end(), abort(), the peer's abort
 *    or 'close', write() sends nothing, calls its callback with an error on a
 *    later tick, and returns true (there is no 'drain' to wait for).
 * 3. Each write callback is called exactly once: without error once the bytes
 *    were handed to the network, with an error when they never will be
 *    (abort, the peer's abort, close).
 * 4. pause() stops 'data' (and 'end') from the next event on, including
 *    before the first event: a channel paused right after bind() delivers
 *    nothing until resume(). A paused channel stops reading from the network,
 *    so flow control reaches the peer instead of memory growing here.
 * 5. end() ends our direction after every byte written before it (FIN,
 *    END_STREAM, QUIC FIN); reading continues. Idempotent.
 * 6. abort(error) tears both directions down at once (socket destroy,
 *    RST_STREAM(CANCEL), RESET_STREAM + STOP_SENDING(H3_REQUEST_CANCELLED)):
 *    pending write callbacks get an error, 'close' follows with an error.
 *    Idempotent; a no-op after 'close'.
 * 7. The peer's abort is reported as 'close' with an error, promptly, and the
 *    channel aborts its own direction too (RFC 9220 §3 and RFC 8441 §5 map a
 *    stream reset to a TCP RST, which ends both directions). One exception:
 *    a paused TCP socket is not polled, so it learns of a reset when it reads
 *    or writes again (the session's heartbeat writes).
 * 8. The peer's 'end' does not close the channel and does not end our
 *    direction: the session decides when (after input it still processes);
 *    'close' follows once our direction ended too.
 */
export interface ByteChannel {
  readonly transport: TransportName;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  /**
   * Each side ends its own direction (HTTP/2 and HTTP/3 streams). False for a
   * whole TCP connection, where RFC 6455 §7.1.1 has the server end it first
   * so that TIME_WAIT stays on the server: a client then waits for that.
   */
  readonly independentEnds: boolean;
  /** Bytes accepted by `write` but not yet handed to the network. */
  readonly bufferedAmount: number;
  /** Starts delivering events, on a later tick (rule 1); called once. */
  bind(events: ByteChannelEvents): void;
  /** Queues bytes in order; false means wait for 'drain' (rule 2). */
  write(data: Buffer | Buffer[], callback?: WriteCallback): boolean;
  /**
   * Optional write batching: writes between cork() and uncork() leave as one
   * (writev) when the transport supports it. The session corks while it
   * handles one incoming chunk, so replies to pipelined messages share a syscall.
   */
  cork?(): void;
  uncork?(): void;
  /** Stops reading from the network (rule 4). */
  pause(): void;
  resume(): void;
  /** Orderly end of our direction after pending writes (rule 5). */
  end(): void;
  /**
   * Optional, for stream transports: the WebSocket is finished in both
   * directions (close frames exchanged, our side ended) but the peer has not
   * ended its side; release the stream without signalling an error
   * (RST_STREAM(NO_ERROR), RFC 9113 §8.1; STOP_SENDING(H3_NO_ERROR)).
   */
  finish?(): void;
  /** Immediate teardown of both directions (rule 6). */
  abort(error?: Error): void;
}

/**
 * write() on a channel that stopped sending (contract rule 2): nothing is
 * sent, the callback gets an error on a later tick, and there is no 'drain'
 * to wait for.
 */
export function refuseWrite(callback?: WriteCallback): true {
  if (callback) process.nextTick(callback, Object.assign(new Error('the channel is no longer writable'), { code: 'ERR_CHANNEL_NOT_WRITABLE' }));
  return true;
}

/**
 * Wraps a write callback for transports that report writes cut short by a
 * teardown as successful (Node's streams call back without an error for a
 * write in flight when the stream is destroyed): once the channel failed,
 * a callback that comes without an error gets the failure (contract rule 3).
 */
export function failedAfter(callback: WriteCallback, failure: () => Error | undefined): WriteCallback {
  return (error) => callback(error ?? failure() ?? null);
}
