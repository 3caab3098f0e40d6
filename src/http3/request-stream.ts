/**
 * One HTTP/3 request stream (a client-initiated bidirectional QUIC stream,
 * RFC 9114 §4.1, §6.1), seen from either end.
 *
 * Receiving: a header section (HEADERS), content (DATA frames, handed on as
 * 'data' as it arrives), optionally a trailer section (HEADERS), then FIN.
 * Interim (1xx) responses may precede the final one. Sending: the same, through
 * respond()/request(), write(), sendTrailers() and end().
 */
import { EventEmitter } from 'node:events';
import type { QuicStream } from '../quic/types.js';
import {
  H3_FRAME_UNEXPECTED,
  H3_ID_ERROR,
  H3_MESSAGE_ERROR,
  H3_NO_ERROR,
  H3_REQUEST_CANCELLED,
  H3_REQUEST_INCOMPLETE,
  Http3Error,
  connectionError,
  streamError,
} from './errors.js';
import {
  type HeaderList,
  checkOutgoing,
  checkRequestHeaders,
  checkResponseHeaders,
  checkTrailers,
} from './fields.js';
import { type Frame, FrameParser, FrameType, encodeFrameHeader, encodeHeadersFrame } from './frames.js';
import { FieldSectionTooLargeError, decodeFieldSection } from './qpack/decoder.js';
import { encodeFieldSection, fieldSectionSize } from './qpack/encoder.js';

export type Http3Role = 'server' | 'client';

/** What a request stream needs from its session. */
export interface RequestStreamContext {
  readonly role: Http3Role;
  /** Our limit on a decoded field section (RFC 9114 §4.2.2). */
  readonly maxFieldSectionSize: number;
  /** Our limit on an encoded HEADERS payload we buffer. */
  readonly maxHeadersFrameSize: number;
  /** We advertised SETTINGS_ENABLE_CONNECT_PROTOCOL = 1, so :protocol is a known pseudo-header. */
  readonly allowProtocol: boolean;
  /** The peer's SETTINGS_MAX_FIELD_SECTION_SIZE (Infinity until known or when absent). */
  peerMaxFieldSectionSize(): number;
  connectionError(error: Http3Error): void;
  /** Server: a well-formed request header section arrived. */
  requestReceived(stream: Http3RequestStream, headers: HeaderList): void;
  /** A stream error we raised or a request we refused (for diagnostics). */
  streamProblem(stream: Http3RequestStream, error: Http3Error): void;
  streamClosed(stream: Http3RequestStream): void;
}

/** Payloads up to this size are copied behind their frame header into one write; larger ones go out as they are. */
const MERGE_LIMIT = 4096;

type ReceiveState = 'headers' | 'body' | 'trailers' | 'done';
/** open → ended (FIN) | reset (ours) | stopped (the peer's STOP_SENDING; the transport discards writes). */
type SendState = 'open' | 'ended' | 'reset' | 'stopped';
type PendingWrite =
  | { kind: 'data'; data: Uint8Array; callback?: ((error?: Error | null) => void) | undefined }
  | { kind: 'raw'; data: Uint8Array };

/**
 * Events:
 * - 'response' (headers: HeaderList): client; the final response header section.
 * - 'informational' (headers: HeaderList): client; an interim (1xx) response.
 * - 'data' (chunk: Buffer): DATA payload bytes as they arrive (flowing: attach listeners, or pause(),
 *   synchronously in the 'request' handler — DATA and FIN can come in the same packet as HEADERS).
 * - 'trailers' (headers: HeaderList): the trailer section.
 * - 'end' (): the peer finished its side cleanly (FIN after a complete message).
 * - 'reset' (code: number): the peer reset its sending side (RESET_STREAM).
 * - 'stopSending' (code: number): the peer asked us to stop sending (STOP_SENDING); later writes are dropped.
 * - 'drain' (): bufferedAmount fell below the transport's high-water mark after write() returned false.
 * - 'error' (error: Http3Error): a stream error on this stream (malformed message, refused or cancelled
 *   request, connection lost before it was sent …). Emitted only if someone listens.
 * - 'close' (): both directions are finished; the stream is gone.
 */
// Typed overloads for the events above (declaration merging with the class).
export interface Http3RequestStream {
  on(event: 'response' | 'informational' | 'trailers', listener: (headers: HeaderList) => void): this;
  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'reset' | 'stopSending', listener: (code: number) => void): this;
  on(event: 'error', listener: (error: Http3Error) => void): this;
  on(event: 'end' | 'drain' | 'close', listener: () => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
  once(event: 'response' | 'informational' | 'trailers', listener: (headers: HeaderList) => void): this;
  once(event: 'data', listener: (chunk: Buffer) => void): this;
  once(event: 'reset' | 'stopSending', listener: (code: number) => void): this;
  once(event: 'error', listener: (error: Http3Error) => void): this;
  once(event: 'end' | 'drain' | 'close', listener: () => void): this;
  once(event: string | symbol, listener: (...args: any[]) => void): this;
}

export class Http3RequestStream extends EventEmitter {
  readonly role: Http3Role;
  private readonly ctx: RequestStreamContext;
  private quic: QuicStream | null = null;
  private readonly parser: FrameParser;

  /** The request header section: received (server) or sent (client). Null on a server until it arrived. */
  headers: HeaderList | null = null;
  /** Client: the final response header section, once received. */
  responseHeaders: HeaderList | null = null;
  /** The request method (`:method`), once known. */
  method: string | null = null;

  private receiveState: ReceiveState = 'headers';
  /** The peer's side is still being read (no FIN processed, no reset, no STOP_SENDING or failure from us). */
  private receiveOpen = true;
  private sendState: SendState = 'open';
  /** Server: a final (non-1xx) response was sent. Client: the request was sent. */
  private headersSent = false;
  private finalStatus = 0;
  private expectedLength: number | null = null;
  private receivedLength = 0;
  private closedFlag = false;
  private pausedFlag = false;
  /** Client: what was sent before the QUIC stream could be opened, in order. */
  private pending: PendingWrite[] = [];
  private pendingBytes = 0;
  private pendingEnd = false;
  /** Client: an extended CONNECT (":protocol"), which waits for the server's SETTINGS (RFC 9220 §3). */
  readonly needsExtendedConnect: boolean;

  /** @internal Created by Http3Session. */
  constructor(ctx: RequestStreamContext, quic: QuicStream | null, request?: { headers: HeaderList; endStream: boolean }) {
    super();
    this.ctx = ctx;
    this.role = ctx.role;
    this.parser = new FrameParser(
      {
        frameStart: (type, length) => this.onFrameStart(type, length),
        data: (chunk) => this.onData(chunk),
        frame: (frame) => this.onFrame(frame),
        end: () => this.onParsedEnd(),
      },
      { maxFieldSectionFrameSize: ctx.maxHeadersFrameSize },
    );
    if (request) {
      this.headers = request.headers;
      this.method = request.headers.find(([name]) => name === ':method')?.[1] ?? null;
      this.needsExtendedConnect = request.headers.some(([name]) => name === ':protocol');
      this.pendingEnd = request.endStream;
    } else {
      this.needsExtendedConnect = false;
    }
    if (quic) this.bind(quic);
  }

  /** The QUIC stream id; null for a client request still waiting to be opened. */
  get id(): number | null {
    return this.quic?.id ?? null;
  }

  /** Bytes accepted by write() and not yet taken by the transport. */
  get bufferedAmount(): number {
    return this.quic ? this.quic.bufferedAmount : this.pendingBytes;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  get paused(): boolean {
    return this.pausedFlag;
  }

  /** The peer's side is still being read. */
  get readable(): boolean {
    return this.receiveOpen;
  }

  /** write() still sends (not ended, reset, or stopped by the peer). */
  get writable(): boolean {
    return this.sendState === 'open' && !this.pendingEnd;
  }

  // --- Sending ----------------------------------------------------------------

  /**
   * Server: sends a response header section (RFC 9114 §4.1). Interim (1xx)
   * responses may come first; after the final one, write() sends content.
   * Throws a TypeError for a header list that breaks RFC 9114 §4.2/§4.3, a
   * RangeError when it exceeds the client's SETTINGS_MAX_FIELD_SECTION_SIZE.
   */
  respond(headers: HeaderList, options: { endStream?: boolean } = {}): void {
    if (this.role !== 'server') throw new Error('respond() is for the server side; a client sends with Http3Session.request()');
    if (this.headersSent) throw new Error('a final response was already sent on this stream');
    const status = checkOutgoing(() => checkResponseHeaders(headers));
    if (status < 200 && options.endStream) throw new TypeError('an interim (1xx) response cannot end the stream');
    this.checkPeerLimit(headers);
    if (status >= 200) {
      this.headersSent = true;
      this.finalStatus = status;
    }
    if (this.sendState !== 'open') return; // reset, or stopped by the peer: nothing would reach it
    (this.quic as QuicStream).write(encodeHeadersFrame(encodeFieldSection(headers)));
    if (options.endStream) this.end();
  }

  /**
   * Sends `data` as one DATA frame. A large payload is written as it is, after
   * its frame header, never copied; a small one is merged with its header into
   * one write. Returns false when the transport's buffer is full: wait for 'drain'.
   */
  write(data: Uint8Array | string, callback?: (error?: Error | null) => void): boolean {
    if (this.role === 'server' && !this.headersSent) throw new Error('respond() with a final status before writing content');
    if (this.pendingEnd || this.sendState === 'ended') throw new Error('write after end');
    const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (this.sendState !== 'open') {
      // Reset by us, or STOP_SENDING from the peer: the transport discards what we send.
      if (callback) queueMicrotask(() => callback(new Error('the stream is no longer writable')));
      return true;
    }
    if (this.quic === null) {
      this.pending.push({ kind: 'data', data: payload, callback });
      this.pendingBytes += payload.length;
      return true;
    }
    return this.writeData(this.quic, payload, callback);
  }

  /** Sends a trailer section (RFC 9114 §4.1) and ends our side. */
  sendTrailers(trailers: HeaderList): void {
    if (this.role === 'server' && !this.headersSent) throw new Error('respond() with a final status before sending trailers');
    if (this.pendingEnd || this.sendState === 'ended') throw new Error('write after end');
    checkOutgoing(() => checkTrailers(trailers, this.role === 'client'));
    this.checkPeerLimit(trailers);
    if (this.sendState !== 'open') return;
    const frame = encodeHeadersFrame(encodeFieldSection(trailers));
    if (this.quic === null) {
      this.pending.push({ kind: 'raw', data: frame });
      this.pendingBytes += frame.length;
      this.pendingEnd = true;
      return;
    }
    this.quic.write(frame);
    this.end();
  }

  /** Ends our side (FIN). A server must have sent a final response first. */
  end(): void {
    if (this.role === 'server' && !this.headersSent && this.sendState === 'open') {
      throw new Error('respond() with a final status before end()');
    }
    if (this.quic === null) {
      this.pendingEnd = true;
      return;
    }
    if (this.sendState !== 'open') return;
    this.sendState = 'ended';
    this.quic.end();
  }

  /** RESET_STREAM on our sending side with `code` (RFC 9000 §19.4); default H3_REQUEST_CANCELLED. */
  reset(code: number = H3_REQUEST_CANCELLED): void {
    if (this.quic === null) {
      this.abandonPending(streamError(code, 'request cancelled before it was sent'));
      return;
    }
    if (this.sendState === 'reset') return;
    this.sendState = 'reset';
    this.quic.reset(code);
  }

  /** STOP_SENDING on our receiving side with `code` (RFC 9000 §19.5); default H3_REQUEST_CANCELLED. */
  stopSending(code: number = H3_REQUEST_CANCELLED): void {
    if (this.quic === null) {
      this.abandonPending(streamError(code, 'request cancelled before it was sent'));
      return;
    }
    if (!this.receiveOpen) return;
    this.receiveOpen = false;
    this.receiveState = 'done';
    this.quic.stopSending(code);
  }

  /**
   * Cancels the request in both directions, as RFC 9114 §4.1.1 recommends
   * ("abruptly terminating any directions of a stream that are still open").
   */
  cancel(code: number = H3_REQUEST_CANCELLED): void {
    this.reset(code);
    this.stopSending(code);
  }

  /** Stops 'data' (and the transport's reading, so flow control slows the peer down). */
  pause(): void {
    this.pausedFlag = true;
    this.parser.pause();
    this.quic?.pause();
  }

  resume(): void {
    if (!this.pausedFlag) return;
    this.pausedFlag = false;
    this.quic?.resume();
    // Bytes the parser held back are delivered on a later tick, not from inside resume().
    queueMicrotask(() => {
      if (!this.pausedFlag && this.receiveOpen) this.guard(() => this.parser.resume());
    });
  }

  // --- Internal: wiring --------------------------------------------------------

  /** @internal Client: the session opened the QUIC stream; send the request and whatever was queued. */
  attach(quic: QuicStream): void {
    this.bind(quic);
    this.headersSent = true;
    quic.write(encodeHeadersFrame(encodeFieldSection(this.headers as HeaderList)));
    const pending = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    for (const item of pending) {
      if (item.kind === 'raw') quic.write(item.data);
      else this.writeData(quic, item.data, item.callback);
    }
    if (this.pendingEnd) {
      this.pendingEnd = false;
      this.sendState = 'ended';
      quic.end();
    }
    if (this.pausedFlag) {
      this.parser.pause();
      quic.pause();
    }
  }

  /** @internal Client: the request could not be sent (GOAWAY, connection closed, settings refused …). */
  abandonPending(error: Http3Error): void {
    if (this.quic !== null || this.closedFlag || this.sendState === 'reset') return;
    this.sendState = 'reset';
    this.receiveOpen = false;
    this.receiveState = 'done';
    const callbacks = this.pending.map((item) => (item.kind === 'data' ? item.callback : undefined));
    this.pending = [];
    this.pendingBytes = 0;
    queueMicrotask(() => {
      for (const callback of callbacks) callback?.(error);
      this.ctx.streamProblem(this, error);
      this.emitError(error);
      this.markClosed();
    });
  }

  /**
   * @internal Client: the server's GOAWAY says this request will not be
   * processed. Clients cancel with H3_REQUEST_CANCELLED (RFC 9114 §4.1.1: they
   * "MUST NOT use the H3_REQUEST_REJECTED error code" on the wire); the caller
   * learns it was rejected, i.e. safe to retry on another connection.
   */
  cancelRejected(error: Http3Error): void {
    if (this.quic === null) {
      this.abandonPending(error);
      return;
    }
    if (this.closedFlag) return;
    if (this.sendState !== 'reset') {
      this.sendState = 'reset';
      this.quic.reset(H3_REQUEST_CANCELLED);
    }
    if (this.receiveOpen) {
      this.receiveOpen = false;
      this.receiveState = 'done';
      this.quic.stopSending(H3_REQUEST_CANCELLED);
    }
    this.ctx.streamProblem(this, error);
    this.emitError(error);
  }

  /** @internal A stream error on this stream: reset and stop whichever directions are still open. */
  fail(error: Http3Error): void {
    if (this.quic === null) {
      this.abandonPending(error);
      return;
    }
    if (this.sendState === 'open') {
      this.sendState = 'reset';
      this.quic.reset(error.code);
    }
    if (this.receiveOpen) {
      this.receiveOpen = false;
      this.quic.stopSending(error.code);
    }
    this.receiveState = 'done';
    this.ctx.streamProblem(this, error);
    this.emitError(error);
  }

  private bind(quic: QuicStream): void {
    this.quic = quic;
    quic.on('data', (chunk: Buffer) => {
      if (this.receiveOpen) this.guard(() => this.parser.push(chunk));
    });
    quic.on('end', () => {
      if (this.receiveOpen) this.guard(() => this.parser.end());
    });
    quic.on('reset', (code: number) => {
      this.receiveOpen = false;
      this.receiveState = 'done';
      this.emit('reset', code);
    });
    quic.on('stopSending', (code: number) => {
      if (this.sendState === 'open') this.sendState = 'stopped';
      this.emit('stopSending', code);
    });
    quic.on('drain', () => this.emit('drain'));
    quic.on('close', () => {
      this.receiveOpen = false;
      this.markClosed();
    });
  }

  private markClosed(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.ctx.streamClosed(this);
    this.emit('close');
  }

  private writeData(quic: QuicStream, payload: Uint8Array, callback?: (error?: Error | null) => void): boolean {
    if (payload.length === 0) {
      // An empty DATA frame carries nothing (§7.2.1 allows it); send none.
      if (callback) queueMicrotask(() => callback(null));
      return true;
    }
    const header = encodeFrameHeader(FrameType.DATA, payload.length);
    if (payload.length <= MERGE_LIMIT) {
      const merged = Buffer.allocUnsafe(header.length + payload.length);
      header.copy(merged, 0);
      merged.set(payload, header.length);
      return quic.write(merged, callback);
    }
    quic.write(header);
    return quic.write(payload, callback);
  }

  private checkPeerLimit(headers: HeaderList): void {
    // RFC 9114 §4.2.2: having received SETTINGS_MAX_FIELD_SECTION_SIZE, an
    // implementation "SHOULD NOT send an HTTP message header that exceeds" it.
    const limit = this.ctx.peerMaxFieldSectionSize();
    const size = fieldSectionSize(headers);
    if (size > limit) throw new RangeError(`header section of ${size} bytes exceeds the peer's limit of ${limit}`);
  }

  private emitError(error: Http3Error): void {
    // An 'error' nobody listens to would throw; a peer's misbehaviour must not crash the process.
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  /** Runs parser work, routing protocol errors to the stream or the connection. */
  private guard(work: () => void): void {
    try {
      work();
    } catch (error) {
      if (!(error instanceof Http3Error)) throw error;
      if (error.scope === 'connection') this.ctx.connectionError(error);
      else this.fail(error);
    }
  }

  // --- Internal: receiving -----------------------------------------------------

  private onFrameStart(type: number, length: number): 'skip' | void {
    if (!this.receiveOpen) return 'skip';
    switch (type) {
      case FrameType.DATA:
        // §4.1: "a DATA frame before any HEADERS frame, or a HEADERS or DATA frame
        // after the trailing HEADERS frame, is considered invalid": H3_FRAME_UNEXPECTED.
        if (this.receiveState === 'headers') throw connectionError(H3_FRAME_UNEXPECTED, 'DATA before HEADERS on a request stream');
        if (this.receiveState === 'trailers') throw connectionError(H3_FRAME_UNEXPECTED, 'DATA after the trailer section');
        return;
      case FrameType.HEADERS:
        if (this.receiveState === 'trailers') throw connectionError(H3_FRAME_UNEXPECTED, 'HEADERS after the trailer section');
        if (this.receiveState === 'body' && this.isTunnel()) {
          // §4.4: once CONNECT has completed, "only DATA frames are permitted …
          // Receipt of any other known frame type MUST be treated as a connection
          // error of type H3_FRAME_UNEXPECTED."
          throw connectionError(H3_FRAME_UNEXPECTED, 'HEADERS on a CONNECT stream');
        }
        if (this.role === 'server' && this.receiveState === 'headers' && length > this.ctx.maxHeadersFrameSize) {
          this.refuseLargeRequest();
          return 'skip';
        }
        return;
      case FrameType.PUSH_PROMISE:
        // §7.2.5: "A server MUST treat the receipt of a PUSH_PROMISE frame as a
        // connection error of type H3_FRAME_UNEXPECTED"; a client that never sent
        // MAX_PUSH_ID (we never do) sees a push ID above anything it allowed:
        // "a connection error of H3_ID_ERROR".
        if (this.role === 'server') throw connectionError(H3_FRAME_UNEXPECTED, 'PUSH_PROMISE from a client');
        throw connectionError(H3_ID_ERROR, 'PUSH_PROMISE, but we never sent MAX_PUSH_ID');
      case FrameType.SETTINGS:
      case FrameType.GOAWAY:
      case FrameType.MAX_PUSH_ID:
      case FrameType.CANCEL_PUSH:
        // §7.2.3, §7.2.4, §7.2.6, §7.2.7: control-stream frames elsewhere are H3_FRAME_UNEXPECTED.
        throw connectionError(H3_FRAME_UNEXPECTED, `frame type 0x${type.toString(16)} on a request stream`);
      default:
        return; // unknown and reserved types: skipped by the parser (§9)
    }
  }

  private isTunnel(): boolean {
    if (this.method !== 'CONNECT') return false;
    return this.role === 'server' || (this.finalStatus >= 200 && this.finalStatus < 300);
  }

  private onData(chunk: Buffer): void {
    this.receivedLength += chunk.length;
    if (this.expectedLength !== null && this.receivedLength > this.expectedLength) {
      // §4.1.2: content-length that does not match the DATA received is malformed.
      throw streamError(H3_MESSAGE_ERROR, `malformed message: more content than content-length ${this.expectedLength}`);
    }
    this.emit('data', chunk);
  }

  private onFrame(frame: Frame): void {
    if (frame.kind !== 'headers') return; // other kinds were refused in onFrameStart
    const limit = this.ctx.maxFieldSectionSize;
    let fields: HeaderList;
    try {
      fields = decodeFieldSection(frame.block, { maxFieldSectionSize: limit }) as HeaderList;
    } catch (error) {
      if (error instanceof FieldSectionTooLargeError && this.role === 'server' && this.receiveState === 'headers') {
        this.refuseLargeRequest();
        return;
      }
      throw error;
    }
    if (this.receiveState === 'body') {
      checkTrailers(fields, this.role === 'server');
      this.receiveState = 'trailers';
      this.emit('trailers', fields);
      return;
    }
    if (this.role === 'server') this.onRequestHeaders(fields);
    else this.onResponseHeaders(fields);
  }

  private onRequestHeaders(fields: HeaderList): void {
    const pseudo = checkRequestHeaders(fields, { allowProtocol: this.ctx.allowProtocol });
    this.expectedLength = contentLength(fields);
    this.method = pseudo.get(':method') ?? null;
    this.headers = fields;
    this.receiveState = 'body';
    this.ctx.requestReceived(this, fields);
  }

  private onResponseHeaders(fields: HeaderList): void {
    const status = checkResponseHeaders(fields);
    if (status < 200) {
      this.emit('informational', fields);
      return;
    }
    this.finalStatus = status;
    this.responseHeaders = fields;
    this.receiveState = 'body';
    // RFC 9110 §8.6: responses to HEAD, 204 and 304 carry no content whatever
    // Content-Length says; a 2xx to CONNECT is a tunnel.
    const bodiless = this.method === 'HEAD' || status === 204 || status === 304 || this.isTunnel();
    this.expectedLength = bodiless ? null : contentLength(fields);
    this.emit('response', fields);
  }

  private onParsedEnd(): void {
    this.receiveOpen = false;
    if (this.receiveState === 'headers') {
      if (this.role === 'server') {
        // §4.1: "If a client-initiated stream terminates without enough of the
        // HTTP message to provide a complete response, the server SHOULD abort
        // its response stream with the error code H3_REQUEST_INCOMPLETE."
        this.receiveState = 'done';
        this.fail(streamError(H3_REQUEST_INCOMPLETE, 'request stream ended before a complete header section'));
      } else {
        this.receiveState = 'done';
        this.fail(streamError(H3_MESSAGE_ERROR, 'malformed message: response stream ended without a final response'));
      }
      return;
    }
    this.receiveState = 'done';
    if (this.expectedLength !== null && this.receivedLength !== this.expectedLength) {
      this.fail(
        streamError(H3_MESSAGE_ERROR, `malformed message: ${this.receivedLength} bytes of content, content-length ${this.expectedLength}`),
      );
      return;
    }
    this.emit('end');
  }

  /**
   * A request header section larger than we accept. RFC 9114 §4.2.2: "A server
   * that receives a larger header section than it is willing to handle can send
   * an HTTP 431 (Request Header Fields Too Large) status code"; §4.1 lets it
   * stop reading the request (STOP_SENDING with H3_NO_ERROR), send a complete
   * response and close its side cleanly. The request never reaches the application.
   */
  private refuseLargeRequest(): void {
    const quic = this.quic as QuicStream;
    this.receiveOpen = false;
    this.receiveState = 'done';
    quic.stopSending(H3_NO_ERROR);
    this.headersSent = true;
    if (this.sendState === 'open') {
      this.sendState = 'ended';
      quic.write(encodeHeadersFrame(encodeFieldSection([[':status', '431']])));
      quic.end();
    }
    this.ctx.streamProblem(this, new FieldSectionTooLargeError(this.ctx.maxFieldSectionSize));
  }
}

/** Content-Length as a number; several equal values are one (RFC 9110 §8.6); anything else is malformed. */
function contentLength(fields: HeaderList): number | null {
  let value: string | null = null;
  for (const [name, v] of fields) {
    if (name !== 'content-length') continue;
    for (const part of v.split(',')) {
      const trimmed = part.trim();
      if (value !== null && trimmed !== value) throw streamError(H3_MESSAGE_ERROR, 'malformed message: conflicting content-length');
      value = trimmed;
    }
  }
  if (value === null) return null;
  if (!/^[0-9]{1,15}$/.test(value)) throw streamError(H3_MESSAGE_ERROR, `malformed message: invalid content-length "${value}"`);
  return Number(value);
}

