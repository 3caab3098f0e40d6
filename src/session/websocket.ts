import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { ClientHandshake, ClientOptions, HandshakeResponse, UnexpectedResponse } from './client-options.js';
import { CloseCode } from '../protocol/close-codes.js';
import { encodeClosePayload, truncateCloseReason } from '../protocol/close-frame.js';
import type { PerMessageDeflate } from '../protocol/deflate/per-message-deflate.js';
import { ProtocolError } from '../protocol/errors.js';
import { encodeTextFrame, encodedPayloadLength } from '../protocol/frame-encoder.js';
import { Opcode } from '../protocol/opcodes.js';
import { Outbox, SHARED_SLICE, type SendCallback } from '../protocol/outbox.js';
import type { SharedFrame } from '../protocol/shared-frame.js';
import { Receiver, type ReceiverEvent } from '../protocol/receiver.js';
import type { ByteChannel, ByteChannelEvents, TransportName } from './byte-channel.js';
import { countCloseCode, type SessionCounters } from './counters.js';
import {
  addEventListener,
  getAttributeListener,
  removeEventListener,
  setAttributeListener,
  type EventListenerLike,
  type TypedEventListener,
  type WebSocketEvent,
  type MessageEvent,
  type CloseEvent,
  type ErrorEvent,
  type WhatwgEventMap,
} from './events.js';
import { kCork, kSendPrepared, kServerSession, kUncork } from './internal.js';
import type { PreparedMessage } from './prepared-message.js';
import type { SessionLimits } from './options.js';

export type BinaryType = 'nodebuffer' | 'arraybuffer' | 'blob';
export type SendData = string | ArrayBufferView | ArrayBuffer;
export interface SendOptions {
  /** Send as a binary message; defaults to true for everything but strings. */
  binary?: boolean;
  /** Compress when permessage-deflate is on and the message reaches the threshold; default true. */
  compress?: boolean;
  /** False sends a fragment; the message ends with a later `fin: true` send (RFC 6455 §5.4). */
  fin?: boolean;
}

/** Everything the session needs once a front-end completed a handshake. */
export interface SessionInit {
  role: 'server' | 'client';
  channel: ByteChannel;
  url: string;
  protocol: string;
  extensions: string;
  deflate: PerMessageDeflate | null;
  /** Messages smaller than this are sent uncompressed even with permessage-deflate. */
  compressionThreshold: number;
  limits: SessionLimits;
  logger: Logger;
  user?: unknown;
  /** Where this session counts its traffic for metrics; absent when metrics are off. */
  counters?: SessionCounters | null;
}

/** Input buffered beyond this while a message is being inflated pauses the transport. */
const INPUT_HIGH_WATER_MARK = 64 * 1024;
/**
 * Events (messages, control frames) one session handles before it yields the
 * event loop for one turn, counted from its last yield: a peer flooding tiny
 * messages must not hold everyone else for the whole 2 MiB (32 reads of
 * 64 KiB) that libuv reads from one socket per turn. A yield costs one
 * pause/resume, so for ordinary traffic one per 1,024 messages is noise.
 */
const EVENTS_BEFORE_YIELD = 1024;
/** `send()` reports backpressure once this many bytes wait to be sent. */
const OUTPUT_HIGH_WATER_MARK = 64 * 1024;
const EMPTY = Buffer.alloc(0);
/** How long a stream transport waits for the peer's end of stream after both close frames. */
const CLOSE_LINGER_MS = 1000;
let nextSessionId = 1;

export function toBuffer(data: ArrayBufferView | ArrayBuffer): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError('data must be a string, an ArrayBuffer or an ArrayBufferView');
}

/** A message's payload: a Buffer for text and, with binaryType 'nodebuffer' (the default), for binary; else an ArrayBuffer or Blob. */
export type MessageData = Buffer | ArrayBuffer | Blob;

/** The Node-style events of a session and their arguments. */
export interface WebSocketEventMap {
  open: [];
  message: [data: MessageData, isBinary: boolean];
  close: [code: number, reason: string];
  error: [error: Error];
  ping: [data: Buffer];
  pong: [data: Buffer];
  drain: [];
  /** Client only: the server accepted (101 or 200) and its answer passed the checks; 'open' follows unless a listener closes. */
  upgrade: [response: HandshakeResponse];
  /** Client only: the server refused the handshake; 'error' (a HandshakeError) and 'close' follow. */
  'unexpected-response': [response: UnexpectedResponse];
}

type Listener<K extends keyof WebSocketEventMap> = (...args: WebSocketEventMap[K]) => void;

// Typed overloads for the events above (declaration merging with the class);
// other names keep EventEmitter's untyped signature.
export interface WebSocket {
  on<K extends keyof WebSocketEventMap>(event: K, listener: Listener<K>): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
  once<K extends keyof WebSocketEventMap>(event: K, listener: Listener<K>): this;
  once(event: string | symbol, listener: (...args: any[]) => void): this;
  off<K extends keyof WebSocketEventMap>(event: K, listener: Listener<K>): this;
  off(event: string | symbol, listener: (...args: any[]) => void): this;
  addListener<K extends keyof WebSocketEventMap>(event: K, listener: Listener<K>): this;
  addListener(event: string | symbol, listener: (...args: any[]) => void): this;
  removeListener<K extends keyof WebSocketEventMap>(event: K, listener: Listener<K>): this;
  removeListener(event: string | symbol, listener: (...args: any[]) => void): this;
}

/**
 * How `new WebSocket(url, …)` reaches the client side. The client sits above
 * this layer (it imports every transport), so the session cannot import it;
 * src/client/connect.ts installs its starter when it loads, and the package
 * entry point loads it.
 */
export type ClientStarter = (
  ws: WebSocket,
  url: string | URL,
  protocolsOrOptions: string | string[] | ClientOptions | undefined,
  options: ClientOptions | undefined,
) => ClientHandshake;

let clientStarter: ClientStarter | null = null;

/** @internal Called once by src/client/connect.ts. */
export function installClientStarter(starter: ClientStarter): void {
  clientStarter = starter;
}

/**
 * One WebSocket session, whatever the transport (HTTP/1.1, HTTP/2, HTTP/3) and
 * whichever side (server or client). It binds the sans-I/O protocol core to a
 * ByteChannel and owns everything with time or I/O in it: the close handshake
 * and its timeout, ping/pong and the heartbeat, flow control in both
 * directions, compression ordering, events and logging.
 *
 * Node-style events: 'open', 'message' (data, isBinary), 'ping', 'pong',
 * 'close' (code, reason), 'error' (only emitted when someone listens, so a
 * misbehaving peer can never crash the process), 'drain'. The WHATWG surface
 * (readyState, onmessage, addEventListener, ...) is layered on top.
 */
export class WebSocket extends EventEmitter {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  // The WHATWG constants on instances live on the prototype (see below), not in every session.
  declare readonly CONNECTING: 0;
  declare readonly OPEN: 1;
  declare readonly CLOSING: 2;
  declare readonly CLOSED: 3;

  readonly id = nextSessionId++;
  url = '';
  protocol = '';
  extensions = '';
  /** Data the server's `authenticate` hook attached to this session. */
  user: unknown = undefined;
  private state: 0 | 1 | 2 | 3 = 0;
  private binaryTypeValue: BinaryType = 'nodebuffer';

  private role: 'server' | 'client' = 'client';
  private channel: ByteChannel | null = null;
  private receiver: Receiver | null = null;
  private deflate: PerMessageDeflate | null = null;
  private compressionThreshold = 0;
  private limits!: SessionLimits;
  private baseLogger!: Logger;
  private childLogger: Logger | null = null;
  private peer: string | undefined = undefined;
  private handshake: ClientHandshake | null = null;
  private counters: SessionCounters | null = null;

  private closeFrameReceived = false;
  /** The peer's close frame, once received. */
  private closeCode: number = CloseCode.Abnormal;
  private closeReason = '';
  /** Why we ended the session without the peer's close frame, reported in 'close'. */
  private failure: { code: number; reason: string } | null = null;
  private closeTimer: NodeJS.Timeout | null = null;
  private lingerTimer: NodeJS.Timeout | null = null;
  private inputFailed = false;

  private userPaused = false;
  private inflating = false;
  private pumping = false;
  private channelPaused = false;
  /** The peer ended its direction; handled once every byte before it was processed. */
  private peerEnded = false;
  private peerEndHandled = false;
  /** Events handled since the last yield, and whether a yield is under way. */
  private eventsSinceYield = 0;
  private yielding = false;

  private outbox = new Outbox({ mask: false });
  /** The channel's last write returned false and its 'drain' has not come yet. */
  private channelFull = false;
  private flushing = false;
  private sendingFragments = false;
  /** Corked by a broadcast burst (see kCork). */
  private burstCorked = false;
  private needDrain = false;

  private heartbeatTimer: NodeJS.Timeout | null = null;
  private heardFromPeer = true;

  constructor(url: string | URL, protocols?: string | string[] | ClientOptions, options?: ClientOptions);
  /** @internal server sessions are created by the server front-ends. */
  constructor(token: typeof kServerSession, init: SessionInit);
  constructor(
    first: string | URL | typeof kServerSession,
    second?: string | string[] | ClientOptions | SessionInit,
    third?: ClientOptions,
  ) {
    super();
    if (first === kServerSession) {
      this.attach(second as SessionInit);
      return;
    }
    if (clientStarter === null) throw new Error('the WebSocket client is not loaded: import WebSocket from the package entry point');
    this.handshake = clientStarter(this, first, second as string | string[] | ClientOptions | undefined, third);
  }

  // ---- WHATWG surface -------------------------------------------------------

  get readyState(): number {
    return this.state;
  }

  get binaryType(): BinaryType {
    return this.binaryTypeValue;
  }

  set binaryType(type: BinaryType) {
    if (type === 'nodebuffer' || type === 'arraybuffer' || type === 'blob') this.binaryTypeValue = type;
  }

  /** Bytes queued by `send()` and not yet handed to the network. */
  get bufferedAmount(): number {
    return this.outbox.queuedBytes + (this.channel?.bufferedAmount ?? 0);
  }

  /** The transport carrying this session, once open. */
  get transport(): TransportName | undefined {
    return this.channel?.transport;
  }

  get remoteAddress(): string | undefined {
    return this.channel?.remoteAddress;
  }

  /** True when both close frames were exchanged (WHATWG `CloseEvent.wasClean`). */
  get wasClean(): boolean {
    return this.outbox.closing && this.closeFrameReceived;
  }

  get onopen(): TypedEventListener<WebSocketEvent> | null {
    return getAttributeListener(this, 'open');
  }
  set onopen(listener: TypedEventListener<WebSocketEvent> | null) {
    setAttributeListener(this, 'open', listener);
  }
  get onmessage(): TypedEventListener<MessageEvent> | null {
    return getAttributeListener(this, 'message') as TypedEventListener<MessageEvent> | null;
  }
  set onmessage(listener: TypedEventListener<MessageEvent> | null) {
    setAttributeListener(this, 'message', listener as EventListenerLike | null);
  }
  get onclose(): TypedEventListener<CloseEvent> | null {
    return getAttributeListener(this, 'close') as TypedEventListener<CloseEvent> | null;
  }
  set onclose(listener: TypedEventListener<CloseEvent> | null) {
    setAttributeListener(this, 'close', listener as EventListenerLike | null);
  }
  get onerror(): TypedEventListener<ErrorEvent> | null {
    return getAttributeListener(this, 'error') as TypedEventListener<ErrorEvent> | null;
  }
  set onerror(listener: TypedEventListener<ErrorEvent> | null) {
    setAttributeListener(this, 'error', listener as EventListenerLike | null);
  }

  addEventListener<K extends keyof WhatwgEventMap>(type: K, listener: TypedEventListener<WhatwgEventMap[K]> | null, options?: { once?: boolean } | boolean): void;
  addEventListener(type: string, listener: EventListenerLike | null, options?: { once?: boolean } | boolean): void;
  addEventListener(type: string, listener: EventListenerLike | null, options?: { once?: boolean } | boolean): void {
    addEventListener(this, type, listener, options);
  }

  removeEventListener<K extends keyof WhatwgEventMap>(type: K, listener: TypedEventListener<WhatwgEventMap[K]> | null): void;
  removeEventListener(type: string, listener: EventListenerLike | null): void;
  removeEventListener(type: string, listener: EventListenerLike | null): void {
    removeEventListener(this, type, listener);
  }

  // ---- lifecycle ------------------------------------------------------------

  /** @internal Binds an established transport to this session and opens it. */
  attach(init: SessionInit): void {
    this.role = init.role;
    this.channel = init.channel;
    this.url = init.url;
    this.protocol = init.protocol;
    this.extensions = init.extensions;
    this.deflate = init.deflate;
    this.compressionThreshold = init.compressionThreshold;
    this.limits = init.limits;
    this.user = init.user;
    this.counters = init.counters ?? null;
    this.baseLogger = init.logger;
    this.peer = init.channel.remoteAddress;
    this.handshake = null;
    this.outbox = new Outbox({ mask: init.role === 'client' });
    this.receiver = new Receiver({
      expectMasked: init.role === 'server',
      maxMessageSize: init.limits.maxMessageSize,
      maxFramesPerMessage: init.limits.maxFramesPerMessage,
      compression: init.deflate !== null,
    });
    this.state = WebSocket.OPEN;
    init.channel.bind(new ChannelEvents(this));
    this.startHeartbeat();
    this.debug({ protocol: this.protocol, extensions: this.extensions }, 'websocket open');
    this.emit('open');
  }

  /** @internal The client handshake failed: report it like a browser does (error, then close 1006). */
  failHandshake(error: Error): void {
    if (this.state === WebSocket.CLOSED) return;
    this.handshake = null;
    this.state = WebSocket.CLOSED;
    this.emitError(error);
    this.emit('close', CloseCode.Abnormal, '');
  }

  /**
   * Starts the close handshake (RFC 6455 §7.1.2). Data already queued is sent
   * first; the transport ends once the peer's close frame arrives, or is
   * aborted after `closeTimeout`.
   */
  close(code?: number, reason?: string | Uint8Array): void {
    if (this.state === WebSocket.CLOSED) return;
    if (this.state === WebSocket.CONNECTING) {
      this.handshake?.abort();
      this.failHandshake(new Error('WebSocket was closed before the connection was established'));
      return;
    }
    if (this.outbox.closing) return;
    // A Buffer reason, as `ws` takes, is read as UTF-8 (RFC 6455 §5.5.1: the reason is UTF-8 text).
    const text = reason === undefined || typeof reason === 'string' ? reason : toBuffer(reason).toString('utf8');
    const payload = code === undefined ? EMPTY : encodeClosePayload(code, text);
    this.sendClose(payload);
  }

  /** Ends the session at once, without a close handshake (close code 1006). */
  terminate(): void {
    if (this.state === WebSocket.CLOSED) return;
    if (this.state === WebSocket.CONNECTING) {
      this.close();
      return;
    }
    this.abortTransport(new Error('terminated'));
  }

  /** Aborts the transport; 'close' follows from the channel, failing whatever was not sent. */
  private abortTransport(error: Error): void {
    this.state = WebSocket.CLOSING;
    this.channel!.abort(error);
  }

  /** Stops delivering messages and reading from the transport until `resume()`. */
  pause(): void {
    this.userPaused = true;
    this.updateFlowControl();
  }

  resume(): void {
    if (!this.userPaused) return;
    this.userPaused = false;
    this.pump();
  }

  get isPaused(): boolean {
    return this.userPaused;
  }

  // ---- sending ----------------------------------------------------------------
  //
  // Frames go through the sans-I/O Outbox, which keeps them in order behind
  // compression and the close frame, and ends the transport only after the last
  // of them. They are handed to the channel while it accepts them (until a
  // write returns false, then again from its 'drain'), so what waits is counted
  // here and pongs to a peer that does not read coalesce instead of piling up.

  /**
   * Sends a message (or a fragment with `fin: false`). Returns false when the
   * bytes waiting to be sent reached the high-water mark: wait for 'drain'
   * before sending more. The callback is called once, with an error when the
   * data was not sent.
   */
  send(data: SendData, options?: SendOptions | SendCallback, callback?: SendCallback): boolean {
    if (typeof options === 'function') {
      callback = options;
      options = undefined;
    }
    if (this.state === WebSocket.CONNECTING) {
      throw new DOMException('WebSocket is not open: readyState 0 (CONNECTING)', 'InvalidStateError');
    }
    if (!this.canSend(callback)) return false;
    const isString = typeof data === 'string';
    const binary = options?.binary ?? !isString;
    const fin = options?.fin ?? true;
    const opcode = this.sendingFragments ? Opcode.Continuation : binary ? Opcode.Binary : Opcode.Text;
    this.sendingFragments = !fin;
    const compress =
      this.deflate !== null && opcode !== Opcode.Continuation && fin && options?.compress !== false;

    if (isString && !compress && opcode === Opcode.Text && this.canWriteDirectly()) {
      // Hot path: a text frame is built straight from the string.
      const frame = encodeTextFrame(data, { fin, rsv1: false, mask: this.role === 'client' });
      if (this.counters !== null) this.countSent(encodedPayloadLength(frame), fin);
      this.writeDirectly(frame, callback);
      return this.sendResult();
    }
    const payload = isString ? Buffer.from(data) : toBuffer(data);
    if (this.counters !== null) this.countSent(payload.length, fin);
    const useCompression = compress && payload.length >= this.compressionThreshold;
    if (!useCompression && this.canWriteDirectly()) {
      this.writeDirectly(this.outbox.encode(opcode, payload, fin), callback);
    } else {
      this.outbox.message(opcode, payload, fin, useCompression, callback);
      this.flush();
    }
    return this.sendResult();
  }

  /**
   * @internal Queues a broadcast message prepared once for many sessions, in
   * order with this session's other sends: the frame bytes are shared, only
   * a session whose compressor keeps context compresses for itself. Returns
   * false when the message was not queued: the session is not open, or it is
   * in the middle of a fragmented message of its own (RFC 6455 §5.4: frames
   * of two messages never interleave).
   */
  [kSendPrepared](message: PreparedMessage): boolean {
    if (this.sendingFragments || !this.canSend(undefined)) return false;
    if (this.counters !== null) this.countSent(message.payload.length, true);
    const deflate = this.deflate;
    if (deflate === null || message.payload.length < this.compressionThreshold) return this.sendShared(message.plainFrame());
    const settings = deflate.sharedCompression;
    if (settings !== null) return this.sendShared(message.compressedFrame(settings));
    // RFC 7692 §7.2.1: with context takeover the output depends on this session's earlier messages.
    this.outbox.message(message.opcode, message.payload, true, true);
    this.flush();
    return true;
  }

  private countSent(bytes: number, fin: boolean): void {
    this.counters!.bytesSent += bytes;
    if (fin) this.counters!.messagesSent++;
  }

  /**
   * @internal Corks the channel for a burst of broadcast messages: the
   * caller uncorks at the end of the tick, so what was published meanwhile
   * leaves in one write instead of one per message. True when it corked now.
   */
  [kCork](): boolean {
    const channel = this.channel;
    if (this.burstCorked || channel === null || channel.cork === undefined) return false;
    this.burstCorked = true;
    channel.cork();
    return true;
  }

  /** @internal Ends what `kCork` started. */
  [kUncork](): void {
    if (!this.burstCorked) return;
    this.burstCorked = false;
    this.channel!.uncork?.();
  }

  private sendShared(frame: SharedFrame): boolean {
    if (frame.ready && frame.length <= SHARED_SLICE && this.canWriteDirectly()) {
      this.writeDirectly(frame.bytes!, undefined);
      return true;
    }
    this.outbox.shared(frame);
    if (!frame.ready) frame.onReady(() => this.onSharedFrameReady());
    this.flush();
    return true;
  }

  private onSharedFrameReady(): void {
    this.flush();
    this.maybeDrain();
  }

  /**
   * Sends a ping (RFC 6455 §5.5.2). `ws`'s form `ping(data, mask, cb)` works
   * too; its `mask` is ignored, since masking follows the role (RFC 6455 §5.3:
   * clients always mask, servers never).
   */
  ping(data?: SendData, callback?: SendCallback): void;
  ping(data: SendData | undefined, mask: boolean | undefined, callback?: SendCallback): void;
  ping(data?: SendData, maskOrCallback?: boolean | SendCallback, callback?: SendCallback): void {
    this.sendControl(Opcode.Ping, data, typeof maskOrCallback === 'function' ? maskOrCallback : callback);
  }

  /** Sends an unsolicited pong (RFC 6455 §5.5.3); `ws`'s `pong(data, mask, cb)` works too, as for ping(). */
  pong(data?: SendData, callback?: SendCallback): void;
  pong(data: SendData | undefined, mask: boolean | undefined, callback?: SendCallback): void;
  pong(data?: SendData, maskOrCallback?: boolean | SendCallback, callback?: SendCallback): void {
    this.sendControl(Opcode.Pong, data, typeof maskOrCallback === 'function' ? maskOrCallback : callback);
  }

  private sendControl(opcode: number, data: SendData | undefined, callback: SendCallback | undefined): void {
    if (this.state === WebSocket.CONNECTING) {
      throw new DOMException('WebSocket is not open: readyState 0 (CONNECTING)', 'InvalidStateError');
    }
    const payload = data === undefined ? EMPTY : typeof data === 'string' ? Buffer.from(data) : toBuffer(data);
    // RFC 6455 §5.5: control frames carry at most 125 bytes.
    if (payload.length > 125) throw new RangeError('control frame payload must not exceed 125 bytes');
    if (!this.canSend(callback)) return;
    this.queueControl(opcode, payload, callback);
  }

  private queueControl(opcode: number, payload: Buffer, callback?: SendCallback): void {
    if (this.canWriteDirectly()) {
      this.writeDirectly(this.outbox.encode(opcode, payload, true), callback);
    } else {
      this.outbox.control(opcode, payload, callback);
      this.flush();
    }
  }

  /**
   * Whether a send may be queued: the session is open, our close frame is not
   * queued, and the peer is reading. A peer that lets more than
   * `maxBufferedAmount` pile up is not reading: the session is aborted. The
   * check runs before a new message is added, so one message the application
   * chose to send (up to any size) never trips it by itself.
   */
  private canSend(callback: SendCallback | undefined): boolean {
    if (this.state !== WebSocket.OPEN || this.outbox.closing) {
      this.callLater(callback, new Error(`WebSocket is not open: readyState ${this.state}`));
      return false;
    }
    const buffered = this.bufferedAmount;
    if (buffered <= this.limits.maxBufferedAmount) return true;
    this.log.info({ buffered, limit: this.limits.maxBufferedAmount }, 'peer is not reading: send buffer limit exceeded, aborting');
    this.failure = { code: CloseCode.PolicyViolation, reason: 'send buffer limit exceeded' };
    this.abortTransport(new Error('send buffer limit exceeded'));
    this.callLater(callback, new Error('send buffer limit exceeded'));
    return false;
  }

  private sendClose(payload: Buffer): void {
    this.state = WebSocket.CLOSING;
    this.sendingFragments = false;
    // RFC 6455 §7.1.5: a close frame without a code reads as 1005 on the other side.
    if (this.counters !== null) {
      countCloseCode(this.counters.closeCodesSent, payload.length >= 2 ? payload.readUInt16BE(0) : CloseCode.NoStatus);
    }
    this.outbox.close(payload);
    this.armCloseTimer();
    this.flush();
    this.maybeEndTransport();
  }

  /** Nothing waits in the outbox and the channel takes more: a frame may skip the queue. */
  private canWriteDirectly(): boolean {
    return !this.channelFull && this.outbox.isEmpty;
  }

  private writeDirectly(bytes: Buffer | Buffer[], callback: SendCallback | undefined): void {
    if (this.channel!.write(bytes, callback)) return;
    this.channelFull = true;
    if (this.counters !== null) this.counters.backpressurePauses++;
  }

  /** What `send()` reports: false asks the caller to wait for 'drain'. */
  private sendResult(): boolean {
    if (!this.channelFull && this.outbox.queuedBytes < OUTPUT_HIGH_WATER_MARK) return true;
    this.needDrain = true;
    return false;
  }

  /** Hands ready frames to the channel while it takes them, starts the next compression, and ends the transport when asked and empty. */
  private flush(): void {
    if (this.flushing || this.channel === null || this.state === WebSocket.CLOSED) return;
    this.flushing = true;
    try {
      while (!this.channelFull) {
        const frame = this.outbox.take();
        if (frame === null) break;
        this.writeDirectly(frame.bytes, frame.callback);
      }
      this.compressNext();
      if (this.outbox.shouldEnd) this.channel.end();
    } finally {
      this.flushing = false;
    }
  }

  private compressNext(): void {
    const payload = this.outbox.nextToCompress();
    if (payload === null) return;
    this.deflate!.compress(payload, (error, compressed) => {
      // After deflate.close() (session closed) no callback comes; this guards the rest.
      if (this.state === WebSocket.CLOSED) return;
      if (error || !compressed) {
        this.log.error({ err: error }, 'compression failed');
        this.abortTransport(error ?? new Error('compression failed'));
        return;
      }
      if (this.counters !== null) {
        this.counters.compressInputBytes += payload.length;
        this.counters.compressOutputBytes += compressed.length;
      }
      this.outbox.compressed(compressed);
      this.flush();
      this.maybeDrain();
    });
  }

  /** 'drain' once the caller was told to wait and both our queue and the channel have room again. */
  private maybeDrain(): void {
    if (!this.needDrain || this.channelFull || this.outbox.queuedBytes >= OUTPUT_HIGH_WATER_MARK) return;
    if (this.state === WebSocket.CLOSED) return;
    this.needDrain = false;
    this.emit('drain');
  }

  private callLater(callback: SendCallback | undefined, error: Error): void {
    if (callback) process.nextTick(callback, error);
  }

  // ---- receiving ------------------------------------------------------------

  /** The turn after a yield: carry on where pump() stopped. */
  private endYield(): void {
    this.yielding = false;
    this.eventsSinceYield = 0;
    this.pump();
  }

  /** @internal */
  onChannelData(chunk: Buffer): void {
    this.heardFromPeer = true;
    if (this.inputFailed) return;
    this.receiver!.push(chunk);
    // Replies written while this chunk's messages are handled leave together.
    const channel = this.channel!;
    channel.cork?.();
    try {
      this.pump();
    } finally {
      channel.uncork?.();
    }
  }

  /** Turns buffered input into events until paused, inflating, or out of bytes. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    let drained = false;
    try {
      while (!this.userPaused && !this.inflating && !this.yielding && !this.inputFailed && this.state !== WebSocket.CLOSED) {
        let event: ReceiverEvent | null;
        try {
          event = this.receiver!.read();
        } catch (error) {
          this.failConnection(error as Error);
          break;
        }
        if (event === null) {
          drained = true;
          break;
        }
        this.dispatch(event);
        if (++this.eventsSinceYield >= EVENTS_BEFORE_YIELD) {
          this.yielding = true;
          setImmediate(() => this.endYield());
          break;
        }
      }
    } finally {
      this.pumping = false;
    }
    // The peer's end comes after its data: act on it only once that data was
    // handled (a message still inflating, or held by pause(), comes first).
    if (this.peerEnded && !this.peerEndHandled && (drained || this.inputFailed)) this.onPeerEnd();
    this.updateFlowControl();
  }

  private dispatch(event: ReceiverEvent): void {
    switch (event.type) {
      case 'message':
        this.deliver(event.data, event.binary);
        return;
      case 'compressed-frame':
        this.inflate(event.payload, event.fin);
        return;
      case 'ping':
        // RFC 6455 §5.5.2: answer with a pong carrying the same payload.
        if (this.state === WebSocket.OPEN && !this.outbox.closing) this.answerPing(event.data);
        this.emit('ping', event.data);
        return;
      case 'pong':
        // RFC 6455 §5.5.3: unsolicited pongs need no answer.
        this.emit('pong', event.data);
        return;
      case 'close':
        this.onCloseFrame(event.code, event.reason);
        return;
    }
  }

  private answerPing(payload: Buffer): void {
    if (this.canWriteDirectly()) {
      this.writeDirectly(this.outbox.encode(Opcode.Pong, payload, true), undefined);
    } else {
      this.outbox.autoPong(payload);
      this.flush();
    }
  }

  private inflate(payload: Buffer, fin: boolean): void {
    this.inflating = true;
    this.deflate!.decompress(payload, fin, (error, data) => {
      this.inflating = false;
      if (this.state === WebSocket.CLOSED || this.inputFailed) return;
      let event: ReceiverEvent | null = null;
      try {
        if (error) throw error;
        if (this.counters !== null) {
          this.counters.decompressInputBytes += payload.length;
          this.counters.decompressOutputBytes += data!.length;
        }
        event = this.receiver!.acceptInflated(data!, fin);
      } catch (failure) {
        this.failConnection(failure as Error);
        this.updateFlowControl();
        return;
      }
      if (event !== null) this.dispatch(event);
      this.pump();
    });
  }

  private deliver(data: Buffer, isBinary: boolean): void {
    if (this.closeFrameReceived) return;
    if (this.counters !== null) {
      this.counters.messagesReceived++;
      this.counters.bytesReceived += data.length;
    }
    if (!isBinary || this.binaryTypeValue === 'nodebuffer') {
      this.emit('message', data, isBinary);
    } else if (this.binaryTypeValue === 'arraybuffer') {
      this.emit('message', data.buffer.slice(data.byteOffset, data.byteOffset + data.length), true);
    } else {
      this.emit('message', new Blob([data]), true);
    }
  }

  private onCloseFrame(code: number, reason: string): void {
    this.closeFrameReceived = true;
    this.closeCode = code;
    this.closeReason = reason;
    if (this.counters !== null) countCloseCode(this.counters.closeCodesReceived, code);
    this.debug({ code, reason }, 'close frame received');
    if (!this.outbox.closing) {
      // RFC 6455 §5.5.1: reply with a close frame, echoing the status code.
      this.sendClose(code === CloseCode.NoStatus ? EMPTY : encodeClosePayload(code, ''));
    } else {
      this.maybeEndTransport();
    }
  }

  /**
   * _Fail the WebSocket Connection_ (RFC 6455 §7.1.7): send a close frame with
   * the precise status code, stop processing input, end the transport.
   */
  private failConnection(error: Error): void {
    const closeCode = error instanceof ProtocolError ? error.closeCode : CloseCode.InternalError;
    this.log.info({ code: (error as ProtocolError).code, closeCode, reason: error.message }, 'peer violated the protocol');
    this.inputFailed = true;
    this.failure = { code: closeCode, reason: error.message };
    this.emitError(error);
    if (!this.outbox.closing && this.state !== WebSocket.CLOSED) {
      this.sendClose(encodeClosePayload(closeCode, truncateCloseReason(error.message)));
    }
    this.endTransport();
  }

  private updateFlowControl(): void {
    if (this.channel === null || this.state === WebSocket.CLOSED) return;
    const shouldPause =
      this.userPaused || this.yielding || (this.inflating && this.receiver!.bufferedBytes >= INPUT_HIGH_WATER_MARK);
    if (shouldPause === this.channelPaused) return;
    this.channelPaused = shouldPause;
    if (shouldPause) this.channel.pause();
    else this.channel.resume();
  }

  // ---- transport events -----------------------------------------------------

  /** @internal */
  onChannelDrain(): void {
    this.channelFull = false;
    this.flush();
    this.maybeDrain();
  }

  /** @internal */
  onChannelEnd(): void {
    this.heardFromPeer = true;
    this.peerEnded = true;
    this.pump();
  }

  private onPeerEnd(): void {
    this.peerEndHandled = true;
    if (!this.closeFrameReceived && !this.inputFailed) {
      this.debug('transport ended without a close frame');
    }
    // The peer will send nothing more: no new sends, and our side ends after what is queued.
    if (this.state === WebSocket.OPEN) this.state = WebSocket.CLOSING;
    this.endTransport();
  }

  /** @internal */
  onChannelClose(error: Error | undefined): void {
    if (this.state === WebSocket.CLOSED) return;
    this.state = WebSocket.CLOSED;
    this.clearTimers();
    this.deflate?.close();
    // Every send callback is called once: what never reached the channel failed.
    const notSent = error ?? new Error('WebSocket closed before the data was sent');
    for (const callback of this.outbox.drop()) process.nextTick(callback, notSent);
    const { code, reason } = this.closeFrameReceived
      ? { code: this.closeCode, reason: this.closeReason }
      : (this.failure ?? { code: CloseCode.Abnormal, reason: '' });
    if (error && !this.wasClean) this.debug({ err: error }, 'transport closed with an error');
    this.debug({ code, reason, clean: this.wasClean }, 'websocket closed');
    this.emit('close', code, reason);
  }

  /**
   * After both close frames, the server ends the transport first (RFC 6455
   * §7.1.1: the server closes the TCP connection, so TIME_WAIT stays on its
   * side). An HTTP/1.1 client waits for that; over HTTP/2 and HTTP/3 each side
   * ends its own stream direction.
   */
  private maybeEndTransport(): void {
    if (!this.outbox.closing || !this.closeFrameReceived) return;
    const channel = this.channel!;
    if (this.role === 'server' || channel.independentEnds) this.endTransport();
    if (channel.finish && this.lingerTimer === null && this.state !== WebSocket.CLOSED) {
      // Both close frames are through, so the peer has nothing left to send; a
      // peer that never ends its stream direction (Firefox does not, over
      // HTTP/2) is released after a short linger instead of the close timeout.
      this.lingerTimer = setTimeout(() => channel.finish!(), Math.min(CLOSE_LINGER_MS, this.limits.closeTimeout));
      this.lingerTimer.unref();
    }
  }

  /** Ends our direction once everything queued (the close frame last) was handed to the channel. */
  private endTransport(): void {
    if (this.outbox.ending || this.channel === null) return;
    this.outbox.requestEnd();
    this.armCloseTimer();
    this.flush();
  }

  private armCloseTimer(): void {
    if (this.closeTimer !== null || this.state === WebSocket.CLOSED) return;
    this.closeTimer = setTimeout(() => {
      this.debug('close timeout: aborting the transport');
      this.channel!.abort(new Error('close handshake timed out'));
    }, this.limits.closeTimeout);
    this.closeTimer.unref();
  }

  private startHeartbeat(): void {
    const interval = this.limits.heartbeatInterval;
    if (interval <= 0) return;
    this.heartbeatTimer = setInterval(() => {
      if (this.state !== WebSocket.OPEN) return;
      if (!this.heardFromPeer) {
        this.log.info({ interval }, 'peer silent for a heartbeat interval: terminating');
        if (this.counters !== null) this.counters.heartbeatTerminations++;
        this.terminate();
        return;
      }
      this.heardFromPeer = false;
      if (!this.outbox.closing) this.queueControl(Opcode.Ping, EMPTY);
    }, interval);
    this.heartbeatTimer.unref();
  }

  private clearTimers(): void {
    if (this.closeTimer !== null) clearTimeout(this.closeTimer);
    if (this.lingerTimer !== null) clearTimeout(this.lingerTimer);
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    this.closeTimer = null;
    this.lingerTimer = null;
    this.heartbeatTimer = null;
  }

  /**
   * The session's pino child (transport, session id, peer), made on first use:
   * a child logger per idle session would cost more memory than the session.
   */
  private get log(): Logger {
    this.childLogger ??= this.baseLogger.child({ transport: this.channel?.transport, session: this.id, peer: this.peer });
    return this.childLogger;
  }

  private debug(details: object | string, message?: string): void {
    if (!this.baseLogger.isLevelEnabled('debug')) return;
    if (typeof details === 'string') this.log.debug(details);
    else this.log.debug(details, message);
  }

  private emitError(error: Error): void {
    // An 'error' without listeners would throw and crash the process; a bad
    // peer must never be able to do that, so errors are only offered.
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }
}

for (const [name, value] of [['CONNECTING', 0], ['OPEN', 1], ['CLOSING', 2], ['CLOSED', 3]] as const) {
  Object.defineProperty(WebSocket.prototype, name, { value, enumerable: true });
}

/** The transport's events for one session: one small object instead of four closures per session. */
class ChannelEvents implements ByteChannelEvents {
  constructor(private readonly ws: WebSocket) {}
  data(chunk: Buffer): void {
    this.ws.onChannelData(chunk);
  }
  drain(): void {
    this.ws.onChannelDrain();
  }
  end(): void {
    this.ws.onChannelEnd();
  }
  close(error?: Error): void {
    this.ws.onChannelClose(error);
  }
}
