/**
 * The driver of one quiche connection (client or server side).
 *
 * Per received datagram: recv (quiche decrypts in place, RFC 9001 §5) → read
 * the streams that have data → offer queued writes again (the ACKs just
 * processed may have opened the congestion window). Then, once per
 * event-loop turn for all datagrams of the turn, the endpoint calls flush():
 * the send() loop until quiche has nothing left, then one timer re-armed from
 * timeout() (loss detection, ACK delay, idle timeout; onTimeout() acts only on
 * expired timers, so an early fire is harmless). No promise, event or buffer
 * per packet beyond what quiche itself returns.
 *
 * Events are emitted only from this I/O processing (receive, flush, timer).
 * State changes discovered inside a user's call (write() meeting STOP_SENDING,
 * a stream finishing in end()) are queued and emitted at the next flush.
 *
 * Finding the streams to serve: quiche's readable()/writable() iterators cost
 * 10–20 µs per call even when empty, ~90 µs for 50 streams, in this binding
 * (napi-rs iterator objects; a plain call such as streamReadable(id) costs
 * ~0.15 µs; measured). So while a connection
 * has at most PROBE_LIMIT streams, each datagram asks each stream directly,
 * and readable() runs only when isReadable() says something else — a new
 * peer stream — has data. With more streams, readable() runs once per
 * event-loop turn (in the flush) instead of once per datagram.
 */
import { EventEmitter } from 'node:events';
import type { RemoteInfo } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { HostPort, NativeConnection, RecvInfo } from './binding.js';
import type { ResolvedTransport } from './config.js';
import type { UdpEndpoint, Flushable } from './endpoint.js';
import { QuicConnectionError, isStreamLimit } from './errors.js';
import { QuicStreamImpl, type StreamHost } from './stream.js';
import type { QuicConnection, QuicConnectionCloseInfo, QuicStream } from './types.js';

/** What a connection needs from the server or client that owns it. */
export interface ConnectionOwner {
  readonly endpoint: UdpEndpoint;
  /** The handshake completed (RFC 9001 §4.1.1). */
  onEstablished(connection: QuicConnectionImpl): void;
  /** 'close' is about to be emitted: the application sees the connection as gone. */
  onClosed(connection: QuicConnectionImpl, info: QuicConnectionCloseInfo): void;
  /** quiche is done with it (closing/draining period over, RFC 9000 §10.2): forget it. */
  onFinished(connection: QuicConnectionImpl): void;
}

type Deferred =
  | { stream: QuicStreamImpl; event: string; argument: number | undefined; callback?: undefined; error?: undefined }
  | { stream?: undefined; event?: undefined; argument?: undefined; callback: (error?: Error | null) => void; error: Error | null };

const EMPTY = new Uint8Array(0);
const MAX_REASON_BYTES = 512;
/** Up to this many streams, streams are probed one by one instead of through quiche's iterators. */
const PROBE_LIMIT = 48;

export class QuicConnectionImpl extends EventEmitter implements QuicConnection, Flushable, StreamHost {
  dirty = false;
  /** Inside I/O processing (receive, flush, timer). */
  processing = false;
  /** Depth of user calls into streams (write, end, reset, stopSending) in progress. */
  userDepth = 0;
  /** close() was called, or the connection closed: no more stream I/O. */
  isClosing = false;
  readonly highWaterMark: number;

  private recvInfo: RecvInfo;
  private readonly streams = new Map<number, QuicStreamImpl>();
  /** The same streams as an array (iterated per datagram without allocating). */
  private readonly streamList: QuicStreamImpl[] = [];
  /** Streams paused while their reading side is open. */
  pausedCount = 0;
  /** readable() is due in the next flush. */
  private readDue = false;
  private pending: QuicStreamImpl[] = [];
  private resumed: QuicStreamImpl[] = [];
  private deferred: Deferred[] = [];
  private established = false;
  /** 'close' was emitted. */
  private closedEmitted = false;
  /** quiche closed the connection and the owner forgot it. */
  private finished = false;
  private closeRequest: { isApp: boolean; code: number; reason: string } | null = null;
  /** Client side: streams wait until connectQuic's caller could attach listeners. */
  private holdStreams: boolean;
  private receivedSinceSweep = false;
  /** openStream() met the peer's limit: bit 0 bidirectional, bit 1 unidirectional. */
  private blockedOpen = 0;
  /** Next stream id of ours, by type (RFC 9000 §2.1: bit 0 initiator, bit 1 direction). */
  private readonly nextLocal: number[];
  /** Highest peer stream id seen by type, and ids below it not seen yet (implicitly opened, §3.2). */
  private readonly peerMax = [-1, -1, -1, -1];
  private readonly peerGaps = new Set<number>();
  private timer: NodeJS.Timeout | null = null;
  private timerDeadline = 0;
  private alpnValue = '';
  private serverNameValue: string | null = null;
  /**
   * Server, client address not validated yet: bytes we may still put on the
   * wire, or null (no limit). RFC 9000 §8.1: before validation a server sends
   * at most three times what it received, counting every datagram routed to
   * the connection, processed or not. quiche 0.18 keeps such a limit itself
   * but takes only its packets off it, not the PADDING that brings a datagram
   * carrying an Initial up to 1,200 bytes (§14.1) — so each probe timeout
   * sent ~1,000 uncounted bytes, and one 1,200-byte Initial drew 6,512 bytes
   * in 10 s (measured). Here the datagrams themselves are counted.
   */
  private amplificationCredit: number | null = null;

  constructor(
    private readonly owner: ConnectionOwner,
    readonly native: NativeConnection,
    readonly isServer: boolean,
    private readonly localAddress: HostPort,
    remote: HostPort,
    transport: ResolvedTransport,
    private readonly logger?: Logger,
  ) {
    super();
    this.highWaterMark = transport.streamHighWaterMark;
    this.recvInfo = { from: remote, to: localAddress };
    this.holdStreams = !isServer;
    this.nextLocal = isServer ? [1, 1, 3, 3] : [0, 0, 2, 2];
  }

  get remoteAddress(): string {
    return this.recvInfo.from.host;
  }

  get remotePort(): number {
    return this.recvInfo.from.port;
  }

  get alpn(): string {
    return this.alpnValue;
  }

  get serverName(): string | null {
    return this.serverNameValue;
  }

  get isEstablished(): boolean {
    return this.established;
  }

  get hasEmittedClose(): boolean {
    return this.closedEmitted;
  }

  get isFinished(): boolean {
    return this.finished;
  }

  openStream(bidirectional: boolean): QuicStream {
    if (this.isClosing) throw new QuicConnectionError('the QUIC connection is closed');
    if (!this.established) throw new QuicConnectionError('the QUIC handshake has not completed');
    const type = (bidirectional ? 0 : 2) | (this.isServer ? 1 : 0);
    const id = this.nextLocal[type]!;
    try {
      // An empty write makes quiche create the stream now, so its stream limit
      // (the peer's MAX_STREAMS, RFC 9000 §4.6) is checked here; nothing is sent
      // until the first data or FIN.
      this.native.streamSend(id, EMPTY, false);
    } catch (error) {
      if (isStreamLimit(error)) {
        this.blockedOpen |= bidirectional ? 1 : 2;
        throw new QuicConnectionError(
          `the peer's limit of ${bidirectional ? 'bidirectional' : 'unidirectional'} streams is reached`,
        );
      }
      throw new QuicConnectionError(`cannot open a stream: ${(error as Error).message}`);
    }
    this.nextLocal[type] = id + 4;
    const stream = new QuicStreamImpl(this, id, bidirectional, true);
    this.track(stream);
    return stream;
  }

  close(code: number, reason = ''): void {
    this.closeWith(true, code, reason, true);
  }

  /**
   * CONNECTION_CLOSE with a transport error code (RFC 9000 §19.19, type 0x1c).
   * `sendPending` false: close without sending what is due first (a client
   * rejecting the server's certificate must not send its TLS Finished).
   */
  closeTransport(code: number, reason = '', sendPending = true): void {
    this.closeWith(false, code, reason, sendPending);
  }

  private closeWith(isApp: boolean, code: number, reason: string, sendPending: boolean): void {
    if (this.isClosing || this.finished) return;
    this.isClosing = true;
    let bytes = Buffer.from(reason, 'utf8');
    if (bytes.length > MAX_REASON_BYTES) bytes = bytes.subarray(0, MAX_REASON_BYTES);
    this.closeRequest = { isApp, code, reason: bytes.toString('utf8') };
    // Send what is due first: quiche 0.18 puts an application CONNECTION_CLOSE
    // (RFC 9000 §19.19, type 0x1d) only in 1-RTT packets, and while handshake
    // data (our TLS Finished, an ACK) is still pending it builds a Handshake
    // packet instead, leaves the close out and sends nothing at all — measured
    // right after connectQuic resolved or 'connection' fired.
    if (sendPending) this.sendAll();
    try {
      this.native.close(isApp, code, bytes);
    } catch (error) {
      this.logger?.debug({ err: error }, 'quic: close failed');
    }
    this.schedule();
  }

  /**
   * Server side, before the handshake: hold what we send to three times what
   * the client sent until its address is validated (RFC 9000 §8.1). Without
   * Retry, the completed handshake is what validates it (the client's Finished
   * arrives in a Handshake packet, §8.1: "receiving a Handshake packet").
   */
  limitAmplification(): void {
    this.amplificationCredit = 0;
  }

  /** Ends the connection without sending anything (the socket is gone, or a handshake timed out). */
  destroy(reason = 'socket closed', code = 0x1): void {
    if (this.finished) return;
    if (!this.closedEmitted) {
      this.isClosing = true;
      this.closeRequest ??= { isApp: false, code, reason };
      this.processing = true;
      try {
        this.emitClose();
      } finally {
        this.processing = false;
      }
    }
    this.finish();
  }

  // ---- I/O processing ----

  /** One datagram for this connection. */
  receive(datagram: Buffer, from: RemoteInfo): void {
    if (this.finished) return;
    const info = this.recvInfo;
    if (from.port !== info.from.port || from.address !== info.from.host) {
      // NAT rebinding or migration (RFC 9000 §9): quiche validates the new path.
      this.recvInfo = { from: { host: from.address, port: from.port }, to: this.localAddress };
    }
    if (this.amplificationCredit !== null) this.amplificationCredit += 3 * datagram.length;
    this.processing = true;
    try {
      try {
        this.native.recv(datagram, this.recvInfo);
      } catch (error) {
        // Undecryptable or duplicate packets are dropped; a fatal error sets
        // localError() and the flush sends CONNECTION_CLOSE.
        this.logger?.debug({ err: error }, 'quic: recv failed');
      }
      this.receivedSinceSweep = true;
      if (this.deferred.length > 0) this.deliverDeferred();
      if (!this.established) this.checkEstablished();
      if (this.established && !this.holdStreams && !this.isClosing) {
        if (this.native.isReadable()) {
          if (this.streamList.length <= PROBE_LIMIT) this.readProbed();
          else this.readDue = true;
        }
        if (this.pending.length > 0) this.topUp();
      }
    } finally {
      this.processing = false;
      // Also when an event handler threw: the flush still has to happen.
      this.owner.endpoint.schedule(this);
    }
  }

  flush(): void {
    if (this.finished) return;
    this.processing = true;
    try {
      if (this.deferred.length > 0) this.deliverDeferred();
      if (!this.established) this.checkEstablished();
      if (this.established && !this.holdStreams && !this.isClosing) {
        if (this.readDue) {
          this.readDue = false;
          if (this.native.isReadable()) this.readStreams();
        }
        if (this.resumed.length > 0) this.readResumed();
        if (this.receivedSinceSweep) {
          this.receivedSinceSweep = false;
          this.probeWriters();
        }
        if (this.pending.length > 0) this.topUp();
        if (this.blockedOpen !== 0) this.checkStreamCredit();
        // Handlers above may have queued events of their own.
        if (this.deferred.length > 0) this.deliverDeferred();
      }
      this.sendAll();
      if (this.native.isClosed()) {
        if (!this.closedEmitted) this.emitClose();
        this.finish();
        return;
      }
      if (this.closeRequest !== null && !this.native.isDraining()) {
        // Our CONNECTION_CLOSE could not be sent (see closeWith): rather than
        // linger until the idle timeout, forget the connection; a server
        // answers the peer's next packet with a Stateless Reset.
        this.logger?.debug('quic: CONNECTION_CLOSE could not be sent; connection dropped');
        if (!this.closedEmitted) this.emitClose();
        this.finish();
        return;
      }
      if (!this.closedEmitted && (this.isClosing || this.native.isDraining() || this.native.localError() !== null)) {
        // CONNECTION_CLOSE is out (ours) or in (the peer's): the application is
        // told now; quiche keeps the connection for its closing or draining
        // period (RFC 9000 §10.2) to answer stray packets.
        this.emitClose();
        if (!this.isServer && this.closeRequest === null && this.native.isDraining()) {
          // A draining endpoint sends nothing (§10.2.2) and a client's socket
          // serves this connection alone: nothing is left to wait for.
          this.finish();
          return;
        }
      }
    } finally {
      this.processing = false;
      // Also when an event handler threw (a finished connection has no timer).
      this.armTimer();
    }
  }

  private readonly onTimer = (): void => {
    this.timer = null;
    if (this.finished) return;
    this.native.onTimeout();
    this.owner.endpoint.schedule(this);
  };

  private sendAll(): void {
    const endpoint = this.owner.endpoint;
    const native = this.native;
    for (;;) {
      let result;
      try {
        result = native.send(endpoint.packetBuffer());
      } catch (error) {
        this.logger?.debug({ err: error }, 'quic: send failed');
        return;
      }
      if (result === null) return;
      // A packet held back by the limit is lost to quiche, which sends it again
      // after a probe timeout, when the client may have sent more.
      if (this.amplificationCredit !== null && !this.withinAmplificationLimit(result[0])) continue;
      endpoint.sendPacket(result[0], result[1].to);
    }
  }

  /** Whether a datagram of `length` bytes may go to a client not validated yet (counting it if so). */
  private withinAmplificationLimit(length: number): boolean {
    if (this.native.isEstablished()) {
      this.amplificationCredit = null;
      return true;
    }
    const credit = this.amplificationCredit!;
    if (length <= credit) {
      this.amplificationCredit = credit - length;
      return true;
    }
    this.logger?.debug({ peer: this.remoteAddress, length, credit }, 'quic: datagram held back (anti-amplification limit)');
    return false;
  }

  private armTimer(): void {
    if (this.finished) return;
    const timeout = this.native.timeout();
    if (timeout === null) {
      if (this.timer !== null) {
        clearTimeout(this.timer);
        this.timer = null;
      }
      return;
    }
    const deadline = performance.now() + timeout;
    if (this.timer !== null) {
      // A timer firing earlier than needed only costs an onTimeout() that does nothing.
      if (this.timerDeadline <= deadline) return;
      clearTimeout(this.timer);
    }
    this.timerDeadline = deadline;
    this.timer = setTimeout(this.onTimer, timeout);
  }

  private checkEstablished(): void {
    if (!this.native.isEstablished() || this.isClosing) return;
    this.established = true;
    this.alpnValue = Buffer.from(this.native.applicationProto()).toString('latin1');
    if (this.isServer) this.serverNameValue = this.native.serverName();
    this.owner.onEstablished(this);
  }

  /** Client side: called once connectQuic's caller has the connection. */
  releaseStreams(): void {
    if (!this.holdStreams) return;
    this.holdStreams = false;
    this.readDue = true;
    this.receivedSinceSweep = true;
    this.schedule();
  }

  /**
   * Extension to the contract: after openStream() threw at the peer's limit,
   * 'streamsAvailable' (bidirectional: boolean) says when MAX_STREAMS (RFC 9000
   * §19.11) raised it.
   */
  private checkStreamCredit(): void {
    if ((this.blockedOpen & 1) !== 0 && this.native.peerStreamsLeftBidi() > 0) {
      this.blockedOpen &= ~1;
      this.emit('streamsAvailable', true);
    }
    if ((this.blockedOpen & 2) !== 0 && this.native.peerStreamsLeftUni() > 0) {
      this.blockedOpen &= ~2;
      this.emit('streamsAvailable', false);
    }
  }

  /** Reads the streams that have data, asking each; readable() only for what is left (a new peer stream). */
  private readProbed(): void {
    const native = this.native;
    const list = this.streamList;
    // Backwards: a stream that closes is swapped with the last one, which was already visited.
    for (let i = list.length - 1; i >= 0; i--) {
      if (this.isClosing) return;
      const stream = list[i];
      if (stream === undefined || !stream.readOpen || stream.paused) continue;
      if (native.streamReadable(stream.id)) stream.readAvailable();
    }
    if (this.isClosing || !native.isReadable()) return;
    // Data quiche holds for a paused stream keeps isReadable() true: look for
    // new streams once per turn then, not per datagram.
    if (this.pausedCount > 0) this.readDue = true;
    else this.readStreams();
  }

  private readStreams(): void {
    for (const id of this.native.readable()) {
      if (this.isClosing) return;
      const stream = this.streams.get(id) ?? this.acceptPeerStream(id);
      if (stream !== undefined && !stream.paused && stream.readOpen) stream.readAvailable();
    }
  }

  private readResumed(): void {
    const list = this.resumed;
    this.resumed = [];
    for (const stream of list) {
      stream.inResumed = false;
      if (!stream.closed && !stream.paused && stream.readOpen && !this.isClosing) stream.readAvailable();
    }
  }

  /** Offers queued data of every stream with pending writes to quiche again. */
  private topUp(): void {
    const list = this.pending;
    let kept = 0;
    for (let i = 0; i < list.length; i++) {
      const stream = list[i]!;
      if (!stream.closed && !this.isClosing && stream.pushQueued()) list[kept++] = stream;
      else stream.inPending = false;
    }
    list.length = kept;
  }

  /**
   * An idle sending side learns of the peer's STOP_SENDING only by asking
   * quiche (streamCapacity throws StreamStopped). quiche lists as writable
   * every stream with flow-control room, including stopped ones and peer
   * streams that began with STOP_SENDING alone; that list is used when
   * asking each stream would cost more.
   */
  private probeWriters(): void {
    const list = this.streamList;
    if (list.length > PROBE_LIMIT) {
      this.sweepWritable();
      return;
    }
    for (let i = list.length - 1; i >= 0; i--) {
      if (this.isClosing) return;
      const stream = list[i];
      if (stream !== undefined && stream.writeOpen && !stream.inPending) stream.probeStopped();
    }
  }

  private sweepWritable(): void {
    for (const id of this.native.writable()) {
      if (this.isClosing) return;
      const stream = this.streams.get(id) ?? this.acceptPeerStream(id);
      if (stream !== undefined && stream.writeOpen && !stream.inPending) stream.probeStopped();
    }
  }

  /** A stream id quiche reports that we do not know: the peer's new stream, or one we already forgot. */
  private acceptPeerStream(id: number): QuicStreamImpl | undefined {
    const type = id % 4;
    // Bit 0 of a stream id is 1 for server-initiated streams (RFC 9000 §2.1).
    if ((type & 1) === (this.isServer ? 1 : 0)) return undefined;
    const max = this.peerMax[type]!;
    if (id > max) {
      // Opening a stream implicitly opens the lower ones of its type (§3.2); their
      // ids stay new until seen. quiche bounds them by our stream limit.
      for (let gap = max < 0 ? type : max + 4; gap < id; gap += 4) this.peerGaps.add(gap);
      this.peerMax[type] = id;
    } else if (!this.peerGaps.delete(id)) {
      return undefined;
    }
    const stream = new QuicStreamImpl(this, id, (type & 2) === 0, false);
    this.track(stream);
    this.emit('stream', stream);
    return stream.closed ? undefined : stream;
  }

  private emitClose(): void {
    this.closedEmitted = true;
    this.isClosing = true;
    if (this.deferred.length > 0) this.deliverDeferred();
    const info = this.closeInfo();
    const error = new QuicConnectionError('the QUIC connection closed', info);
    const streams = this.streamList.splice(0);
    this.streams.clear();
    this.pending.length = 0;
    this.resumed.length = 0;
    for (const stream of streams) stream.abort(error);
    if (this.deferred.length > 0) this.deliverDeferred();
    this.owner.onClosed(this, info);
    this.emit('close', info);
  }

  private closeInfo(): QuicConnectionCloseInfo {
    const native = this.native;
    if (native.isTimedOut()) return { isApp: false, code: 0, reason: '', local: false, timedOut: true };
    const request = this.closeRequest;
    if (request !== null) return { ...request, local: true, timedOut: false };
    const peer = native.peerError();
    if (peer !== null) {
      return { isApp: peer.isApp, code: peer.errorCode, reason: Buffer.from(peer.reason).toString('utf8'), local: false, timedOut: false };
    }
    const local = native.localError();
    if (local !== null) {
      return { isApp: local.isApp, code: local.errorCode, reason: Buffer.from(local.reason).toString('utf8'), local: true, timedOut: false };
    }
    // quiche closes silently on a Stateless Reset from the peer (RFC 9000 §10.3.1).
    return { isApp: false, code: 0, reason: 'stateless reset', local: false, timedOut: false };
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.owner.onFinished(this);
  }

  // ---- services for streams ----

  schedule(): void {
    this.owner.endpoint.schedule(this);
  }

  addPending(stream: QuicStreamImpl): void {
    if (stream.inPending) return;
    stream.inPending = true;
    this.pending.push(stream);
  }

  addResumed(stream: QuicStreamImpl): void {
    if (stream.inResumed) return;
    stream.inResumed = true;
    this.resumed.push(stream);
    this.schedule();
  }

  private track(stream: QuicStreamImpl): void {
    this.streams.set(stream.id, stream);
    stream.listIndex = this.streamList.length;
    this.streamList.push(stream);
  }

  forget(stream: QuicStreamImpl): void {
    if (!this.streams.delete(stream.id)) return;
    const list = this.streamList;
    const last = list.pop()!;
    if (last !== stream) {
      list[stream.listIndex] = last;
      last.listIndex = stream.listIndex;
    }
    if (stream.paused && stream.countedPaused) {
      stream.countedPaused = false;
      this.pausedCount--;
    }
  }

  shutdown(id: number, direction: number, code: number): void {
    if (this.closedEmitted) return;
    try {
      this.native.streamShutdown(id, direction, code);
    } catch {
      // Already finished or collected in quiche.
    }
    this.schedule();
  }

  deferEmit(stream: QuicStreamImpl, event: string, argument: number | undefined): void {
    this.deferred.push({ stream, event, argument });
    this.schedule();
  }

  /** Events go out directly only from I/O processing, and never from inside a user's call. */
  get canEmit(): boolean {
    return this.processing && this.userDepth === 0;
  }

  deferCallback(callback: (error?: Error | null) => void, error: Error | null): void {
    if (this.canEmit) {
      callback(error);
      return;
    }
    this.deferred.push({ callback, error });
    this.schedule();
  }

  private deliverDeferred(): void {
    const list = this.deferred;
    this.deferred = [];
    for (const item of list) {
      if (item.stream === undefined) item.callback(item.error);
      else if (item.argument === undefined) item.stream.emit(item.event);
      else item.stream.emit(item.event, item.argument);
    }
  }
}
