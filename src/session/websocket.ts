import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { startClient, type ClientHandshake, type ClientOptions } from '../client/connect.js';
import { CloseCode } from '../protocol/close-codes.js';
import { encodeClosePayload, truncateCloseReason } from '../protocol/close-frame.js';
import type { PerMessageDeflate } from '../protocol/deflate/per-message-deflate.js';
import { ProtocolError } from '../protocol/errors.js';
import { encodeFrame, encodeTextFrame } from '../protocol/frame-encoder.js';
import { Opcode } from '../protocol/opcodes.js';
import { Receiver, type ReceiverEvent } from '../protocol/receiver.js';
import type { ByteChannel, ByteChannelEvents, TransportName } from './byte-channel.js';
import {
  addEventListener,
  getAttributeListener,
  removeEventListener,
  setAttributeListener,
  type EventListenerLike,
} from './events.js';
import { kServerSession } from './internal.js';
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
type SendCallback = (error?: Error | null) => void;

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
}

interface PendingFrame {
  opcode: number;
  payload: Buffer;
  fin: boolean;
  compress: boolean;
  callback: SendCallback | undefined;
}

/** Input buffered beyond this while a message is being inflated pauses the transport. */
const INPUT_HIGH_WATER_MARK = 64 * 1024;
/** `send()` reports backpressure once this many bytes wait to be sent. */
const OUTPUT_HIGH_WATER_MARK = 64 * 1024;
const EMPTY = Buffer.alloc(0);
/** How long a stream transport waits for the peer's end of stream after both close frames. */
const CLOSE_LINGER_MS = 1000;
let nextSessionId = 1;

function toBuffer(data: ArrayBufferView | ArrayBuffer): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError('data must be a string, an ArrayBuffer or an ArrayBufferView');
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

  private closeFrameSent = false;
  private closeFrameReceived = false;
  /** The peer's close frame, once received. */
  private closeCode: number = CloseCode.Abnormal;
  private closeReason = '';
  /** Why we ended the session without the peer's close frame, reported in 'close'. */
  private failure: { code: number; reason: string } | null = null;
  private closeTimer: NodeJS.Timeout | null = null;
  private lingerTimer: NodeJS.Timeout | null = null;
  private inputFailed = false;
  private transportEnded = false;

  private userPaused = false;
  private inflating = false;
  private pumping = false;
  private channelPaused = false;

  private readonly outgoing: PendingFrame[] = [];
  private queuedBytes = 0;
  private compressing = false;
  private sendingFragments = false;
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
    this.handshake = startClient(this, first, second as string | string[] | ClientOptions | undefined, third);
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
    return this.queuedBytes + (this.channel?.bufferedAmount ?? 0);
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
    return this.closeFrameSent && this.closeFrameReceived;
  }

  get onopen(): EventListenerLike | null {
    return getAttributeListener(this, 'open');
  }
  set onopen(listener: EventListenerLike | null) {
    setAttributeListener(this, 'open', listener);
  }
  get onmessage(): EventListenerLike | null {
    return getAttributeListener(this, 'message');
  }
  set onmessage(listener: EventListenerLike | null) {
    setAttributeListener(this, 'message', listener);
  }
  get onclose(): EventListenerLike | null {
    return getAttributeListener(this, 'close');
  }
  set onclose(listener: EventListenerLike | null) {
    setAttributeListener(this, 'close', listener);
  }
  get onerror(): EventListenerLike | null {
    return getAttributeListener(this, 'error');
  }
  set onerror(listener: EventListenerLike | null) {
    setAttributeListener(this, 'error', listener);
  }

  addEventListener(type: string, listener: EventListenerLike | null, options?: { once?: boolean } | boolean): void {
    addEventListener(this, type, listener, options);
  }

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
    this.baseLogger = init.logger;
    this.peer = init.channel.remoteAddress;
    this.handshake = null;
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
  close(code?: number, reason?: string): void {
    if (this.state === WebSocket.CLOSED) return;
    if (this.state === WebSocket.CONNECTING) {
      this.handshake?.abort();
      this.failHandshake(new Error('WebSocket was closed before the connection was established'));
      return;
    }
    if (this.closeFrameSent) return;
    const payload = code === undefined ? EMPTY : encodeClosePayload(code, reason);
    this.sendClose(payload);
  }

  /** Ends the session at once, without a close handshake (close code 1006). */
  terminate(): void {
    if (this.state === WebSocket.CLOSED) return;
    if (this.state === WebSocket.CONNECTING) {
      this.close();
      return;
    }
    this.state = WebSocket.CLOSING;
    this.channel!.abort();
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

  // ---- sending --------------------------------------------------------------

  /**
   * Sends a message (or a fragment with `fin: false`). Returns false when the
   * bytes waiting to be sent reached the high-water mark: wait for 'drain'
   * before sending more.
   */
  send(data: SendData, options?: SendOptions | SendCallback, callback?: SendCallback): boolean {
    if (typeof options === 'function') {
      callback = options;
      options = undefined;
    }
    if (this.state === WebSocket.CONNECTING) {
      throw new DOMException('WebSocket is not open: readyState 0 (CONNECTING)', 'InvalidStateError');
    }
    if (this.state !== WebSocket.OPEN || this.closeFrameSent) {
      this.callLater(callback, new Error(`WebSocket is not open: readyState ${this.state}`));
      return false;
    }
    const isString = typeof data === 'string';
    const binary = options?.binary ?? !isString;
    const fin = options?.fin ?? true;
    const opcode = this.sendingFragments ? Opcode.Continuation : binary ? Opcode.Binary : Opcode.Text;
    this.sendingFragments = !fin;
    const compress =
      this.deflate !== null && opcode !== Opcode.Continuation && fin && options?.compress !== false;

    if (isString && !compress && this.outgoing.length === 0 && opcode === Opcode.Text) {
      // Hot path: a text frame is built straight from the string.
      return this.writeToChannel(encodeTextFrame(data, { fin, rsv1: false, mask: this.role === 'client' }), callback);
    }
    const payload = isString ? Buffer.from(data) : toBuffer(data);
    const useCompression = compress && payload.length >= this.compressionThreshold;
    return this.queueFrame({ opcode, payload, fin, compress: useCompression, callback });
  }

  ping(data?: SendData, callback?: SendCallback): void {
    this.sendControl(Opcode.Ping, data, callback);
  }

  pong(data?: SendData, callback?: SendCallback): void {
    this.sendControl(Opcode.Pong, data, callback);
  }

  private sendControl(opcode: number, data: SendData | undefined, callback: SendCallback | undefined): void {
    if (this.state === WebSocket.CONNECTING) {
      throw new DOMException('WebSocket is not open: readyState 0 (CONNECTING)', 'InvalidStateError');
    }
    const payload = data === undefined ? EMPTY : typeof data === 'string' ? Buffer.from(data) : toBuffer(data);
    // RFC 6455 §5.5: control frames carry at most 125 bytes.
    if (payload.length > 125) throw new RangeError('control frame payload must not exceed 125 bytes');
    if (this.state !== WebSocket.OPEN || this.closeFrameSent) {
      this.callLater(callback, new Error(`WebSocket is not open: readyState ${this.state}`));
      return;
    }
    this.queueFrame({ opcode, payload, fin: true, compress: false, callback });
  }

  private sendClose(payload: Buffer): void {
    this.closeFrameSent = true;
    this.state = WebSocket.CLOSING;
    this.sendingFragments = false;
    this.queueFrame({ opcode: Opcode.Close, payload, fin: true, compress: false, callback: undefined });
    this.armCloseTimer();
    this.maybeEndTransport();
  }

  private queueFrame(frame: PendingFrame): boolean {
    if (this.outgoing.length === 0 && !frame.compress) {
      return this.writeFrame(frame);
    }
    this.outgoing.push(frame);
    this.queuedBytes += frame.payload.length;
    this.flushOutgoing();
    return this.checkBackpressure(true);
  }

  /** Writes queued frames in order; a frame to compress holds back the ones behind it. */
  private flushOutgoing(): void {
    while (this.outgoing.length > 0 && !this.compressing && this.channel !== null) {
      const frame = this.outgoing[0];
      if (!frame.compress) {
        this.outgoing.shift();
        this.queuedBytes -= frame.payload.length;
        this.writeFrame(frame);
        continue;
      }
      this.compressing = true;
      this.deflate!.compress(frame.payload, (error, compressed) => {
        this.compressing = false;
        if (this.state === WebSocket.CLOSED) return;
        if (error || !compressed) {
          this.log.error({ err: error }, 'compression failed');
          this.channel!.abort(error ?? undefined);
          return;
        }
        this.outgoing.shift();
        this.queuedBytes -= frame.payload.length;
        this.writeFrame({ ...frame, payload: compressed }, true);
        this.flushOutgoing();
        if (this.outgoing.length === 0) this.onChannelDrain();
      });
    }
  }

  private writeFrame(frame: PendingFrame, rsv1 = false): boolean {
    const flags = { fin: frame.fin, rsv1, mask: this.role === 'client' };
    return this.writeToChannel(encodeFrame(frame.opcode, frame.payload, flags), frame.callback);
  }

  private writeToChannel(bytes: Buffer | Buffer[], callback: SendCallback | undefined): boolean {
    const channel = this.channel!;
    const belowHighWater = channel.write(bytes, callback);
    return this.checkBackpressure(!belowHighWater);
  }

  /** Returns what `send()` reports, and aborts a session whose peer stopped reading. */
  private checkBackpressure(channelFull: boolean): boolean {
    const buffered = this.bufferedAmount;
    if (buffered > this.limits.maxBufferedAmount && this.state !== WebSocket.CLOSED) {
      this.log.warn({ buffered, limit: this.limits.maxBufferedAmount }, 'peer is not reading: send buffer limit exceeded, aborting');
      this.failure = { code: CloseCode.PolicyViolation, reason: 'send buffer limit exceeded' };
      this.state = WebSocket.CLOSING;
      this.channel!.abort(new Error('send buffer limit exceeded'));
      return false;
    }
    if (channelFull || buffered >= OUTPUT_HIGH_WATER_MARK) {
      this.needDrain = true;
      return false;
    }
    return true;
  }

  private callLater(callback: SendCallback | undefined, error: Error): void {
    if (callback) process.nextTick(callback, error);
  }

  // ---- receiving ------------------------------------------------------------

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
    try {
      while (!this.userPaused && !this.inflating && !this.inputFailed && this.state !== WebSocket.CLOSED) {
        let event: ReceiverEvent | null;
        try {
          event = this.receiver!.read();
        } catch (error) {
          this.failConnection(error as Error);
          break;
        }
        if (event === null) break;
        this.dispatch(event);
      }
    } finally {
      this.pumping = false;
    }
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
        if (!this.closeFrameSent) this.queueFrame({ opcode: Opcode.Pong, payload: event.data, fin: true, compress: false, callback: undefined });
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

  private inflate(payload: Buffer, fin: boolean): void {
    this.inflating = true;
    this.deflate!.decompress(payload, fin, (error, data) => {
      this.inflating = false;
      if (this.state === WebSocket.CLOSED || this.inputFailed) return;
      let event: ReceiverEvent | null = null;
      try {
        if (error) throw error;
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
    this.debug({ code, reason }, 'close frame received');
    if (!this.closeFrameSent) {
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
    if (!this.closeFrameSent && this.state !== WebSocket.CLOSED) {
      this.sendClose(encodeClosePayload(closeCode, truncateCloseReason(error.message)));
    }
    this.endTransport();
  }

  private updateFlowControl(): void {
    if (this.channel === null || this.state === WebSocket.CLOSED) return;
    const shouldPause =
      this.userPaused || (this.inflating && this.receiver!.bufferedBytes >= INPUT_HIGH_WATER_MARK);
    if (shouldPause === this.channelPaused) return;
    this.channelPaused = shouldPause;
    if (shouldPause) this.channel.pause();
    else this.channel.resume();
  }

  // ---- transport events -----------------------------------------------------

  /** @internal */
  onChannelDrain(): void {
    if (!this.needDrain || this.outgoing.length > 0 || this.bufferedAmount >= OUTPUT_HIGH_WATER_MARK) return;
    this.needDrain = false;
    this.emit('drain');
  }

  /** @internal */
  onChannelEnd(): void {
    this.heardFromPeer = true;
    if (!this.closeFrameReceived && !this.inputFailed) {
      this.debug('transport ended without a close frame');
    }
    // The peer will send nothing more; finish our side too.
    this.endTransport();
  }

  /** @internal */
  onChannelClose(error: Error | undefined): void {
    if (this.state === WebSocket.CLOSED) return;
    this.state = WebSocket.CLOSED;
    this.clearTimers();
    this.deflate?.close();
    this.outgoing.length = 0;
    this.queuedBytes = 0;
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
    if (!this.closeFrameSent || !this.closeFrameReceived) return;
    const channel = this.channel!;
    if (this.role === 'server' || channel.transport !== 'http/1.1') this.endTransport();
    if (channel.finish && this.lingerTimer === null && this.state !== WebSocket.CLOSED) {
      // Both close frames are through, so the peer has nothing left to send; a
      // peer that never ends its stream direction (Firefox does not, over
      // HTTP/2) is released after a short linger instead of the close timeout.
      this.lingerTimer = setTimeout(() => channel.finish!(), Math.min(CLOSE_LINGER_MS, this.limits.closeTimeout));
      this.lingerTimer.unref();
    }
  }

  private endTransport(): void {
    if (this.transportEnded || this.channel === null) return;
    this.transportEnded = true;
    this.channel.end();
    this.armCloseTimer();
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
        this.terminate();
        return;
      }
      this.heardFromPeer = false;
      this.queueFrame({ opcode: Opcode.Ping, payload: EMPTY, fin: true, compress: false, callback: undefined });
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
