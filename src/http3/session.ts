/**
 * An HTTP/3 connection (RFC 9114) over one QUIC connection, as a server or a
 * client: control streams and SETTINGS (§6.2.1, §7.2.4), the peer's
 * unidirectional streams by type (§6.2), request streams (§4.1, §6.1), GOAWAY
 * (§5.2) and error handling (§8). QPACK is static-table only (see qpack/).
 *
 * The QUIC engine is reached only through the interfaces of quic/types.ts.
 */
import { EventEmitter } from 'node:events';
import { DeadlineQueue } from '../quic/deadline-queue.js';
import type { QuicConnection, QuicConnectionCloseInfo, QuicStream } from '../quic/types.js';
import {
  H3_CLOSED_CRITICAL_STREAM,
  H3_FRAME_UNEXPECTED,
  H3_ID_ERROR,
  H3_INTERNAL_ERROR,
  H3_MISSING_SETTINGS,
  H3_NO_ERROR,
  H3_REQUEST_REJECTED,
  H3_STREAM_CREATION_ERROR,
  H3_VERSION_FALLBACK,
  Http3Error,
  connectionError,
  errorCodeName,
  streamError,
} from './errors.js';
import { type HeaderList, checkOutgoing, checkRequestHeaders } from './fields.js';
import { type Frame, FrameParser, FrameType, encodeGoawayFrame, encodeSettingsFrame } from './frames.js';
import { DecoderStreamReader, EncoderStreamReader } from './qpack/instruction-streams.js';
import { fieldSectionSize } from './qpack/encoder.js';
import { Http3RequestStream, type Http3Role, type RequestStreamContext } from './request-stream.js';
import type { Http3Settings } from './settings.js';
import { VarintReader } from './varint.js';

/** Unidirectional stream types (RFC 9114 §6.2, RFC 9204 §4.2). */
export const StreamType = {
  CONTROL: 0x00,
  PUSH: 0x01,
  QPACK_ENCODER: 0x02,
  QPACK_DECODER: 0x03,
} as const;

export interface Http3SessionOptions {
  role: Http3Role;
  /**
   * Largest request/response header (or trailer) section we accept, as RFC 9114
   * §4.2.2 measures it (name + value + 32 per field). Advertised as
   * SETTINGS_MAX_FIELD_SECTION_SIZE. Default 64 KiB.
   */
  maxFieldSectionSize?: number;
  /**
   * Largest encoded HEADERS payload we buffer before decoding. Default: the same
   * as maxFieldSectionSize, since a field line's encoding (at most a few bytes
   * of prefix plus name and value, Huffman only when shorter) is always smaller
   * than the name + value + 32 it counts for.
   */
  maxHeadersFrameSize?: number;
  /** Server: requests handled at once; more are refused with H3_REQUEST_REJECTED. Default 100 (RFC 9114 §6.1's floor). */
  maxConcurrentRequests?: number;
  /**
   * Server: ms a request stream may take to deliver its complete header
   * section; then it is rejected (H3_REQUEST_REJECTED). Default 0: no limit.
   */
  requestHeadersTimeout?: number;
  /**
   * Server: requests whose header section is still incomplete, at most; a new
   * request stream beyond it is rejected (H3_REQUEST_REJECTED). Default 100.
   */
  maxIncompleteRequests?: number;
  /** Server: advertise SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 and accept :protocol (RFC 9220 §3, RFC 8441 §3). */
  enableConnectProtocol?: boolean;
  /**
   * Also open our (empty) QPACK encoder and decoder streams. Default false: with
   * no dynamic table on either side RFC 9204 §4.2 lets an endpoint skip both
   * ("MAY avoid creating an encoder stream if it will not be used"; "MAY avoid
   * creating a decoder stream if its decoder sets the maximum capacity of the
   * dynamic table to zero").
   */
  qpackStreams?: boolean;
  /** Send one reserved (grease) setting, as RFC 9114 §7.2.4.1 recommends. Default true. */
  grease?: boolean;
}

export interface AdvertisedSettings {
  /** Always 0: our decoder has no dynamic table (RFC 9204 §3.2.3). */
  qpackMaxTableCapacity: number;
  /** Always 0: nothing of ours ever blocks (RFC 9204 §2.1.2). */
  qpackBlockedStreams: number;
  maxFieldSectionSize: number;
  enableConnectProtocol: boolean;
}

/** The largest stream id GOAWAY can carry from a server (2^62-4), for a two-step shutdown (RFC 9114 §5.2). */
export const MAX_GOAWAY_STREAM_ID = (1n << 62n) - 4n;

/**
 * Events:
 * - 'settings' (settings: Http3Settings): the peer's SETTINGS arrived (also `peerSettings`).
 * - 'request' (stream: Http3RequestStream, headers: HeaderList): server; a well-formed request header section.
 * - 'goaway' (id: number): the peer sent GOAWAY (a stream id from a server, a push id from a client).
 * - 'streamError' (error: Http3Error, stream: Http3RequestStream | null): a request stream was refused or failed
 *   (diagnostics; null for a request refused before it got a stream object: GOAWAY, concurrency limit).
 * - 'error' (error: Http3Error): we detected a connection error and are closing the connection with its code.
 *   Emitted only if someone listens.
 * - 'close' (info: QuicConnectionCloseInfo): the QUIC connection is gone; every request stream closed before.
 */
// Typed overloads for the events above (declaration merging with the class).
export interface Http3Session {
  on(event: 'request', listener: (stream: Http3RequestStream, headers: HeaderList) => void): this;
  on(event: 'settings', listener: (settings: Http3Settings) => void): this;
  on(event: 'goaway', listener: (id: number) => void): this;
  on(event: 'streamError', listener: (error: Http3Error, stream: Http3RequestStream | null) => void): this;
  on(event: 'error', listener: (error: Http3Error) => void): this;
  on(event: 'close', listener: (info: QuicConnectionCloseInfo) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
  once(event: 'request', listener: (stream: Http3RequestStream, headers: HeaderList) => void): this;
  once(event: 'settings', listener: (settings: Http3Settings) => void): this;
  once(event: 'goaway', listener: (id: number) => void): this;
  once(event: 'streamError', listener: (error: Http3Error, stream: Http3RequestStream | null) => void): this;
  once(event: 'error', listener: (error: Http3Error) => void): this;
  once(event: 'close', listener: (info: QuicConnectionCloseInfo) => void): this;
  once(event: string | symbol, listener: (...args: any[]) => void): this;
}

export class Http3Session extends EventEmitter {
  readonly role: Http3Role;
  readonly connection: QuicConnection;
  /** What we advertised in SETTINGS (plus one grease setting unless disabled). */
  readonly localSettings: Readonly<AdvertisedSettings>;
  /** The peer's SETTINGS, once received. */
  peerSettings: Http3Settings | null = null;

  private readonly maxFieldSectionSize: number;
  private readonly maxHeadersFrameSize: number;
  private readonly maxConcurrentRequests: number;
  private readonly context: RequestStreamContext;
  private controlStream: QuicStream | null = null;
  private readonly ownCriticalStreams = new Set<QuicStream>();
  private peerControl = false;
  private peerEncoder = false;
  private peerDecoder = false;
  private closing = false;
  private closedFlag = false;
  private closeInfo: QuicConnectionCloseInfo | null = null;
  /** Live request streams (server: accepted; client: opened or waiting to be). */
  private readonly requests = new Set<Http3RequestStream>();
  /** Server: accepted request streams whose header section has not arrived in full. */
  private readonly incomplete: DeadlineQueue<Http3RequestStream>;
  private readonly maxIncompleteRequests: number;
  /** Client: requests waiting for a QUIC stream (stream limit) or for SETTINGS. */
  private readonly waiting: Http3RequestStream[] = [];
  private retryTimer: NodeJS.Timeout | null = null;
  /** Server: the highest client request stream id we accepted. */
  private highestAcceptedId = -1;
  private goawaySentId: bigint | null = null;
  private goawayReceivedId: bigint | null = null;
  private maxPushIdReceived: bigint | null = null;
  private settingsWaiters: Array<{ resolve: (s: Http3Settings) => void; reject: (e: Error) => void }> = [];

  constructor(connection: QuicConnection, options: Http3SessionOptions) {
    super();
    this.role = options.role;
    this.connection = connection;
    this.maxFieldSectionSize = options.maxFieldSectionSize ?? 64 * 1024;
    this.maxHeadersFrameSize = options.maxHeadersFrameSize ?? this.maxFieldSectionSize;
    this.maxConcurrentRequests = options.maxConcurrentRequests ?? 100;
    this.maxIncompleteRequests = options.maxIncompleteRequests ?? 100;
    this.incomplete = new DeadlineQueue(options.requestHeadersTimeout ?? 0, (stream) => this.headersTimedOut(stream));
    const enableConnectProtocol = this.role === 'server' && (options.enableConnectProtocol ?? false);
    this.localSettings = {
      // Our decoder has no dynamic table and never blocks (see qpack/decoder.ts).
      qpackMaxTableCapacity: 0,
      qpackBlockedStreams: 0,
      maxFieldSectionSize: this.maxFieldSectionSize,
      enableConnectProtocol,
    };
    this.context = this.makeContext();

    connection.on('stream', (stream: QuicStream) => this.onPeerStream(stream));
    connection.on('close', (info: QuicConnectionCloseInfo) => this.onConnectionClose(info));

    // RFC 9114 §6.2.1 / §3.2: each side opens its control stream and sends
    // SETTINGS first on it, "as soon as the transport is ready to send data",
    // without waiting for anything from the peer (§7.2.4.2).
    try {
      this.controlStream = this.openCritical(StreamType.CONTROL);
      this.controlStream.write(
        encodeSettingsFrame({ ...this.localSettings, grease: options.grease ?? true }),
      );
      if (options.qpackStreams) {
        this.openCritical(StreamType.QPACK_ENCODER);
        this.openCritical(StreamType.QPACK_DECODER);
      }
    } catch (error) {
      // §6.2: the peer's transport parameters MUST allow three unidirectional streams.
      this.connectionError(connectionError(H3_INTERNAL_ERROR, `cannot open our control stream: ${(error as Error).message}`));
    }
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Request streams alive on this connection. */
  get activeRequests(): number {
    return this.requests.size;
  }

  /** The id of the last GOAWAY the peer sent, if any (rounded above 2^53-1). */
  get goawayReceived(): number | null {
    return this.goawayReceivedId === null ? null : Number(this.goawayReceivedId);
  }

  /** The id of the last GOAWAY we sent, if any. */
  get goawaySent(): number | null {
    return this.goawaySentId === null ? null : Number(this.goawaySentId);
  }

  /** Resolves with the peer's SETTINGS (at once if they are here); rejects if the connection closes first. */
  waitForSettings(): Promise<Http3Settings> {
    if (this.peerSettings) return Promise.resolve(this.peerSettings);
    if (this.closedFlag || this.closing) return Promise.reject(new Error('the HTTP/3 connection is closed'));
    return new Promise((resolve, reject) => this.settingsWaiters.push({ resolve, reject }));
  }

  /**
   * Client: starts a request. The stream is returned at once; HEADERS go out as
   * soon as a QUIC stream can be opened. An extended CONNECT (":protocol")
   * first waits for the server's SETTINGS and fails with H3_VERSION_FALLBACK if
   * they do not enable it (RFC 9220 §3: the client must not use it before).
   * Throws a TypeError for a malformed header list, an Error when the
   * connection is closing or the server sent GOAWAY (RFC 9114 §5.2: "Endpoints
   * MUST NOT initiate new requests … after receipt of a GOAWAY frame").
   */
  request(headers: HeaderList, options: { endStream?: boolean } = {}): Http3RequestStream {
    if (this.role !== 'client') throw new Error('request() is for the client side');
    if (this.closing || this.closedFlag) throw new Error('the HTTP/3 connection is closed');
    if (this.goawayReceivedId !== null) throw new Error('the server sent GOAWAY; open a new connection');
    if (this.goawaySentId !== null) throw new Error('this connection is shutting down (we sent GOAWAY)');
    const list = headers.map(([name, value]) => [name, value] as [string, string]);
    checkOutgoing(() => checkRequestHeaders(list, { allowProtocol: true }));
    const limit = this.peerSettings?.maxFieldSectionSize ?? Infinity;
    if (fieldSectionSize(list) > limit) {
      throw new RangeError(`request header section exceeds the server's limit of ${limit} bytes`);
    }
    const stream = new Http3RequestStream(this.context, null, { headers: list, endStream: options.endStream ?? false });
    this.requests.add(stream);
    this.waiting.push(stream);
    this.openWaiting();
    return stream;
  }

  /**
   * Starts a graceful shutdown (RFC 9114 §5.2).
   * Server: GOAWAY with the first request stream id we have not processed
   * (the highest accepted + 4, or 0), or `id` if given (a client-initiated
   * bidirectional stream id, e.g. MAX_GOAWAY_STREAM_ID for a first warning);
   * requests arriving on that id or above are refused with H3_REQUEST_REJECTED.
   * Client: GOAWAY with push id `id` (default 0: we accept no pushes), and no
   * new requests. Later calls never raise the id (§5.2).
   */
  goaway(id?: number | bigint): void {
    if (this.closing || this.closedFlag || this.controlStream === null) return;
    let value: bigint;
    if (this.role === 'server') {
      value = id === undefined ? BigInt(this.highestAcceptedId < 0 ? 0 : this.highestAcceptedId + 4) : BigInt(id);
      if (value < 0n || value % 4n !== 0n || value > MAX_GOAWAY_STREAM_ID) {
        throw new RangeError(`GOAWAY from a server carries a client-initiated bidirectional stream id, not ${value}`);
      }
    } else {
      value = id === undefined ? 0n : BigInt(id);
    }
    // §5.2: "the identifier in each frame MUST NOT be greater than the identifier in any previous frame".
    if (this.goawaySentId !== null && value > this.goawaySentId) value = this.goawaySentId;
    this.goawaySentId = value;
    this.controlStream.write(encodeGoawayFrame(value));
    if (this.role === 'server') {
      // §5.2: "the endpoint SHOULD explicitly cancel … any requests … that have
      // identifiers greater than or equal to the one indicated" — those not yet
      // handed to the application (the others were processed).
      for (const stream of this.requests) {
        if (stream.id !== null && BigInt(stream.id) >= value && stream.headers === null) {
          stream.fail(streamError(H3_REQUEST_REJECTED, 'request above our GOAWAY id'));
        }
      }
    } else {
      for (const stream of this.waiting.splice(0)) {
        stream.abandonPending(streamError(H3_REQUEST_REJECTED, 'the connection is shutting down (we sent GOAWAY)'));
      }
    }
  }

  /** Closes the QUIC connection with an HTTP/3 error code (RFC 9114 §5.3); default H3_NO_ERROR. */
  close(code: number = H3_NO_ERROR, reason = ''): void {
    if (this.closing || this.closedFlag) return;
    this.closing = true;
    this.connection.close(code, reason);
  }

  // --- Connection-level plumbing ------------------------------------------------

  private makeContext(): RequestStreamContext {
    return {
      role: this.role,
      maxFieldSectionSize: this.maxFieldSectionSize,
      maxHeadersFrameSize: this.maxHeadersFrameSize,
      allowProtocol: this.localSettings.enableConnectProtocol,
      peerMaxFieldSectionSize: () => this.peerSettings?.maxFieldSectionSize ?? Infinity,
      connectionError: (error) => this.connectionError(error),
      requestReceived: (stream, headers) => {
        this.incomplete.delete(stream);
        if (!this.closing && !this.closedFlag) this.emit('request', stream, headers);
      },
      streamProblem: (stream, error) => {
        this.emit('streamError', error, stream);
      },
      streamClosed: (stream) => {
        this.requests.delete(stream);
        this.incomplete.delete(stream);
        const index = this.waiting.indexOf(stream);
        if (index >= 0) this.waiting.splice(index, 1);
        if (this.waiting.length > 0) this.openWaiting(); // a stream slot may have come free
      },
    };
  }

  /**
   * A connection error (RFC 9114 §8): close the QUIC connection with its code
   * and a reason. Later events are ignored.
   */
  private connectionError(error: Http3Error): void {
    if (this.closing || this.closedFlag) return;
    this.closing = true;
    if (this.listenerCount('error') > 0) this.emit('error', error);
    this.connection.close(error.code, error.message.slice(0, 256));
  }

  /** Runs work for a peer stream, turning thrown Http3Errors into connection or stream errors. */
  private guard(stream: QuicStream, work: () => void): void {
    try {
      work();
    } catch (error) {
      if (!(error instanceof Http3Error)) throw error;
      if (error.scope === 'connection') {
        this.connectionError(error);
      } else {
        stream.stopSending(error.code);
      }
    }
  }

  private openCritical(type: number): QuicStream {
    const stream = this.connection.openStream(false);
    stream.write(Buffer.from([type]));
    this.ownCriticalStreams.add(stream);
    // §6.2.1 / RFC 9204 §4.2: the receiver "MUST NOT request that the sender
    // close" a control or QPACK stream; if one is closed, H3_CLOSED_CRITICAL_STREAM.
    stream.on('stopSending', () => {
      this.connectionError(connectionError(H3_CLOSED_CRITICAL_STREAM, 'the peer asked us to stop a critical stream'));
    });
    return stream;
  }

  private onConnectionClose(info: QuicConnectionCloseInfo): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.closing = true;
    this.closeInfo = info;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.incomplete.close();
    const error = new Http3Error(
      info.isApp ? info.code : H3_INTERNAL_ERROR,
      'connection',
      `connection closed (${info.isApp ? errorCodeName(info.code) : `transport error 0x${info.code.toString(16)}`}${info.reason ? `: ${info.reason}` : ''})`,
    );
    for (const stream of this.waiting.splice(0)) stream.abandonPending(error);
    for (const waiter of this.settingsWaiters.splice(0)) waiter.reject(error);
    this.emit('close', info);
  }

  /** How the connection ended, once it has. */
  get closeReason(): QuicConnectionCloseInfo | null {
    return this.closeInfo;
  }

  // --- Peer streams ------------------------------------------------------------------

  private onPeerStream(stream: QuicStream): void {
    if (this.closing || this.closedFlag) return;
    if (stream.bidirectional) {
      if (this.role === 'client') {
        // §6.1: "Clients MUST treat receipt of a server-initiated bidirectional
        // stream as a connection error of type H3_STREAM_CREATION_ERROR".
        this.connectionError(connectionError(H3_STREAM_CREATION_ERROR, 'server-initiated bidirectional stream'));
        return;
      }
      this.acceptRequest(stream);
      return;
    }
    this.acceptUnidirectional(stream);
  }

  private acceptRequest(stream: QuicStream): void {
    const refuse = (reason: string): void => {
      // §4.1.1: a request refused before any processing is "rejected": both directions, H3_REQUEST_REJECTED.
      stream.stopSending(H3_REQUEST_REJECTED);
      stream.reset(H3_REQUEST_REJECTED);
      this.emit('streamError', streamError(H3_REQUEST_REJECTED, reason), null);
    };
    if (this.goawaySentId !== null && BigInt(stream.id) >= this.goawaySentId) {
      refuse(`request on stream ${stream.id}, at or above our GOAWAY id ${this.goawaySentId}`);
      return;
    }
    if (this.requests.size >= this.maxConcurrentRequests) {
      refuse(`more than ${this.maxConcurrentRequests} concurrent requests`);
      return;
    }
    if (this.incomplete.size >= this.maxIncompleteRequests) {
      // Each holds a partial header section (up to maxHeadersFrameSize) and
      // its stream state: this bounds what one connection's slow or silent
      // requests can hold, whatever the stream limit.
      refuse(`more than ${this.maxIncompleteRequests} requests with incomplete header sections`);
      return;
    }
    this.highestAcceptedId = Math.max(this.highestAcceptedId, stream.id);
    const request = new Http3RequestStream(this.context, stream);
    this.requests.add(request);
    // Until its header section is in (usually from the same datagram, read
    // right after this 'stream' event).
    this.incomplete.add(request);
  }

  /**
   * The header section did not arrive within requestHeadersTimeout (the
   * server's handshakeTimeout, as HTTP/1.1 answers 408 after it). Nothing was
   * passed to the application, so the request is "rejected" in the sense of
   * RFC 9114 §4.1.1 and both directions end with H3_REQUEST_REJECTED, which
   * also tells an honest client it may retry. (H3_REQUEST_INCOMPLETE, §8.1,
   * is for a stream the client itself ended too early.)
   */
  private headersTimedOut(stream: Http3RequestStream): void {
    if (stream.headers !== null || stream.closed) return;
    stream.fail(streamError(H3_REQUEST_REJECTED, 'request header section not complete in time'));
  }

  /** Reads the stream type (RFC 9114 §6.2), which may arrive split, then hands the rest to the right reader. */
  private acceptUnidirectional(stream: QuicStream): void {
    const type = new VarintReader();
    let consume: ((chunk: Buffer) => void) | null = null;
    // §6.2: "A receiver MUST tolerate unidirectional streams being closed or
    // reset prior to the reception of the unidirectional stream header."
    stream.on('data', (chunk: Buffer) => {
      if (this.closing || this.closedFlag) return;
      if (consume !== null) {
        consume(chunk);
        return;
      }
      const used = type.push(chunk);
      if (type.value === null) return;
      consume = this.typedStream(stream, type.value.value);
      if (used < chunk.length) consume(chunk.subarray(used));
    });
  }

  private typedStream(stream: QuicStream, type: bigint): (chunk: Buffer) => void {
    const discard = (): void => {};
    switch (type) {
      case BigInt(StreamType.CONTROL): {
        if (this.peerControl) {
          // §6.2.1: "receipt of a second stream claiming to be a control stream
          // MUST be treated as a connection error of type H3_STREAM_CREATION_ERROR".
          this.connectionError(connectionError(H3_STREAM_CREATION_ERROR, 'a second control stream'));
          return discard;
        }
        this.peerControl = true;
        this.watchCritical(stream, 'control');
        const parser = new FrameParser(this.controlHandler(), { maxFieldSectionFrameSize: 0 });
        return (chunk) => this.guard(stream, () => parser.push(chunk));
      }
      case BigInt(StreamType.PUSH):
        // §6.2.2: "if a server receives a client-initiated push stream, this MUST be
        // treated as a connection error of type H3_STREAM_CREATION_ERROR"; §4.6: a
        // client that sent no MAX_PUSH_ID (we never do) treats one as H3_ID_ERROR.
        if (this.role === 'server') {
          this.connectionError(connectionError(H3_STREAM_CREATION_ERROR, 'push stream from a client'));
        } else {
          this.connectionError(connectionError(H3_ID_ERROR, 'push stream, but we never sent MAX_PUSH_ID'));
        }
        return discard;
      case BigInt(StreamType.QPACK_ENCODER):
      case BigInt(StreamType.QPACK_DECODER): {
        const encoder = type === BigInt(StreamType.QPACK_ENCODER);
        // RFC 9204 §4.2: "Receipt of a second instance of either stream type MUST
        // be treated as a connection error of type H3_STREAM_CREATION_ERROR."
        if (encoder ? this.peerEncoder : this.peerDecoder) {
          this.connectionError(connectionError(H3_STREAM_CREATION_ERROR, `a second QPACK ${encoder ? 'encoder' : 'decoder'} stream`));
          return discard;
        }
        if (encoder) this.peerEncoder = true;
        else this.peerDecoder = true;
        this.watchCritical(stream, encoder ? 'QPACK encoder' : 'QPACK decoder');
        const reader = encoder ? new EncoderStreamReader() : new DecoderStreamReader();
        return (chunk) => this.guard(stream, () => reader.push(chunk));
      }
      default:
        // §6.2 / §6.2.3: unknown and reserved types: abort reading with
        // H3_STREAM_CREATION_ERROR, never a connection error; data is dropped.
        stream.stopSending(H3_STREAM_CREATION_ERROR);
        return discard;
    }
  }

  /** §6.2.1 / RFC 9204 §4.2: closing a control or QPACK stream is H3_CLOSED_CRITICAL_STREAM. */
  private watchCritical(stream: QuicStream, what: string): void {
    const closed = (): void => {
      if (this.closing || this.closedFlag) return;
      this.connectionError(connectionError(H3_CLOSED_CRITICAL_STREAM, `the peer closed its ${what} stream`));
    };
    stream.on('end', closed);
    stream.on('reset', closed);
  }

  // --- The peer's control stream ------------------------------------------------------

  private controlHandler(): ConstructorParameters<typeof FrameParser>[0] {
    return {
      frameStart: (type) => {
        if (this.peerSettings === null && type !== FrameType.SETTINGS) {
          // §6.2.1: "If the first frame of the control stream is any other frame
          // type, this MUST be treated as a connection error of type
          // H3_MISSING_SETTINGS" (§9: an unknown type does not satisfy it either).
          throw connectionError(H3_MISSING_SETTINGS, `first frame on the control stream is type 0x${type.toString(16)}, not SETTINGS`);
        }
        switch (type) {
          case FrameType.SETTINGS:
            // §7.2.4: a second SETTINGS frame is H3_FRAME_UNEXPECTED.
            if (this.peerSettings !== null) throw connectionError(H3_FRAME_UNEXPECTED, 'a second SETTINGS frame');
            return;
          case FrameType.DATA:
          case FrameType.HEADERS:
          case FrameType.PUSH_PROMISE:
            // §7.2.1, §7.2.2, §7.2.5: not on a control stream.
            throw connectionError(H3_FRAME_UNEXPECTED, `frame type 0x${type.toString(16)} on the control stream`);
          case FrameType.MAX_PUSH_ID:
            // §7.2.7: "A client MUST treat the receipt of a MAX_PUSH_ID frame as a
            // connection error of type H3_FRAME_UNEXPECTED."
            if (this.role === 'client') throw connectionError(H3_FRAME_UNEXPECTED, 'MAX_PUSH_ID from a server');
            return;
          default:
            return;
        }
      },
      data: () => {},
      frame: (frame) => this.onControlFrame(frame),
    };
  }

  private onControlFrame(frame: Frame): void {
    switch (frame.kind) {
      case 'settings':
        this.peerSettings = frame.settings;
        this.emit('settings', frame.settings);
        for (const waiter of this.settingsWaiters.splice(0)) waiter.resolve(frame.settings);
        this.openWaiting();
        return;
      case 'goaway':
        this.onGoaway(frame.id);
        return;
      case 'cancelPush':
        // §7.2.3: a server receiving CANCEL_PUSH for a push ID no PUSH_PROMISE
        // mentioned (we never push) and a client receiving one above the maximum
        // it allowed (we never send MAX_PUSH_ID) both have H3_ID_ERROR.
        throw connectionError(H3_ID_ERROR, `CANCEL_PUSH for push ${frame.pushId}, but no push was ever possible`);
      case 'maxPushId':
        // §7.2.7: "receipt of a MAX_PUSH_ID frame that contains a smaller value
        // than previously received MUST be treated as a connection error of type H3_ID_ERROR".
        if (this.maxPushIdReceived !== null && frame.pushId < this.maxPushIdReceived) {
          throw connectionError(H3_ID_ERROR, `MAX_PUSH_ID went down from ${this.maxPushIdReceived} to ${frame.pushId}`);
        }
        this.maxPushIdReceived = frame.pushId;
        return;
      default:
        return;
    }
  }

  private onGoaway(id: bigint): void {
    if (this.role === 'client' && id % 4n !== 0n) {
      // §7.2.6: from a server, GOAWAY carries a client-initiated bidirectional
      // stream ID; "any other type" is H3_ID_ERROR.
      throw connectionError(H3_ID_ERROR, `GOAWAY with stream id ${id}, not a client-initiated bidirectional stream`);
    }
    if (this.goawayReceivedId !== null && id > this.goawayReceivedId) {
      // §5.2: "Receiving a GOAWAY containing a larger identifier than previously
      // received MUST be treated as a connection error of type H3_ID_ERROR."
      throw connectionError(H3_ID_ERROR, `GOAWAY id went up from ${this.goawayReceivedId} to ${id}`);
    }
    this.goawayReceivedId = id;
    if (this.role === 'client') {
      // Nothing new may start (§5.2). Requests not sent yet are rejected as is;
      // those sent on ids at or above the GOAWAY id "will not be processed", so
      // they are cancelled and reported as rejected: safe to retry elsewhere.
      for (const stream of this.waiting.splice(0)) {
        stream.abandonPending(streamError(H3_REQUEST_REJECTED, 'the server sent GOAWAY before this request was sent'));
      }
      for (const stream of this.requests) {
        if (stream.id !== null && BigInt(stream.id) >= id) {
          stream.cancelRejected(streamError(H3_REQUEST_REJECTED, `the server's GOAWAY (${id}) says request ${stream.id} will not be processed`));
        }
      }
    }
    this.emit('goaway', Number(id));
  }

  // --- Client: opening request streams ---------------------------------------------------

  private openWaiting(): void {
    if (this.closing || this.closedFlag) return;
    for (let i = 0; i < this.waiting.length; ) {
      const stream = this.waiting[i] as Http3RequestStream;
      if (stream.needsExtendedConnect) {
        if (this.peerSettings === null) {
          i++; // RFC 9220 §3: wait for the server's SETTINGS; other requests need not
          continue;
        }
        if (!this.peerSettings.enableConnectProtocol) {
          this.waiting.splice(i, 1);
          stream.abandonPending(
            streamError(H3_VERSION_FALLBACK, 'the server did not send SETTINGS_ENABLE_CONNECT_PROTOCOL = 1; extended CONNECT is unavailable over HTTP/3'),
          );
          continue;
        }
      }
      let quic: QuicStream;
      try {
        quic = this.connection.openStream(true);
      } catch {
        // The peer's stream limit: try again when one of ours closes, or shortly.
        this.scheduleRetry();
        return;
      }
      this.waiting.splice(i, 1);
      stream.attach(quic);
    }
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== null) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.openWaiting();
    }, 25);
    this.retryTimer.unref();
  }
}

