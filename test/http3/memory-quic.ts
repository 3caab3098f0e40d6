import { EventEmitter } from 'node:events';
import type { QuicConnection, QuicConnectionCloseInfo, QuicStream } from '../../src/quic/types.js';

/**
 * An in-memory QUIC connection pair honouring the contract of
 * src/quic/types.ts, so the HTTP/3 layer is tested without
 * UDP. What it models:
 *
 * - stream ids by initiator and direction (RFC 9000 §2.1): client bidi 0, 4, 8 …,
 *   server bidi 1, 5 …, client uni 2, 6 …, server uni 3, 7 …;
 * - the peer learns of a stream on its first data, FIN or reset ('stream');
 * - bytes in order, FIN after the last byte ('end'), RESET_STREAM dropping what
 *   is queued ('reset' with the code), STOP_SENDING ('stopSending' with the code;
 *   later writes are discarded, and by default the sender answers with
 *   RESET_STREAM carrying the same code, as RFC 9000 §3.5 requires and quiche does);
 * - pause(): a paused receiver takes nothing, so the sender's bufferedAmount
 *   grows (flow control); write() returns false at the high-water mark and
 *   'drain' follows once the queue falls below it;
 * - 'close' on a stream once both of its directions are finished, on every
 *   stream before the connection's 'close';
 * - a limit on streams open at once per initiator and direction
 *   (openStream() throws beyond it; closing a stream frees a slot);
 * - events are only ever emitted from a later macrotask, never from inside a
 *   method call (the contract's rule), in the order the actions happened.
 */
export interface MemoryQuicOptions {
  /** Stream write high-water mark; default 256 KiB (the contract's default). */
  highWaterMark?: number;
  /** Bidirectional streams each side may have open at once; default 1000. */
  maxStreamsBidi?: number;
  /** Unidirectional streams each side may have open at once; default 100. */
  maxStreamsUni?: number;
  /** Answer STOP_SENDING with RESET_STREAM of the same code; default true. */
  resetOnStopSending?: boolean;
}

/** Shared by the two ends: one queue of pending actions, flushed on a later macrotask. */
class Network {
  private readonly actions: Array<() => void> = [];
  private scheduled = false;
  readonly ends: MemoryQuicConnection[] = [];

  post(action: () => void): void {
    this.actions.push(action);
    this.schedule();
  }

  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const actions = this.actions.splice(0);
    for (const action of actions) action();
    this.pumpAll();
  }

  pumpAll(): void {
    for (const end of this.ends) for (const stream of [...end.streams.values()]) stream.pump();
  }
}

export class MemoryQuicStream extends EventEmitter implements QuicStream {
  readonly id: number;
  readonly bidirectional: boolean;
  readonly local: boolean;
  readonly conn: MemoryQuicConnection;
  peer!: MemoryQuicStream;
  /** Everything write() accepted on this side, in order (for assertions). */
  readonly written: Buffer[] = [];
  readonly sentResets: number[] = [];
  readonly sentStopSending: number[] = [];
  readonly receivedResets: number[] = [];
  readonly receivedStopSending: number[] = [];
  endCalled = false;

  private queue: Array<{ data: Buffer; callback?: ((error?: Error | null) => void) | undefined }> = [];
  private queued = 0;
  private finQueued = false;
  /** Our sending direction is over: FIN delivered, or reset. */
  sendDone: boolean;
  /** Our receiving direction is over: 'end' or 'reset' delivered. */
  recvDone: boolean;
  private stopped = false;
  private wantDrain = false;
  paused = false;
  announced: boolean;
  closed = false;

  constructor(conn: MemoryQuicConnection, id: number, bidirectional: boolean, local: boolean) {
    super();
    this.conn = conn;
    this.id = id;
    this.bidirectional = bidirectional;
    this.local = local;
    this.announced = local;
    this.sendDone = !(bidirectional || local);
    this.recvDone = !(bidirectional || !local);
  }

  get bufferedAmount(): number {
    return this.queued;
  }

  /** All bytes written so far, as one buffer. */
  get writtenBytes(): Buffer {
    return Buffer.concat(this.written);
  }

  write(data: Uint8Array, callback?: (error?: Error | null) => void): boolean {
    if (!(this.bidirectional || this.local)) throw new Error(`stream ${this.id} is receive-only`);
    if (this.stopped && !this.conn.isClosed) {
      // After STOP_SENDING (or our own reset) "further writes are discarded".
      if (callback) setImmediate(() => callback(null));
      return true;
    }
    if (this.conn.isClosed || this.finQueued || this.sendDone) {
      if (callback) setImmediate(() => callback(new Error('stream is not writable')));
      return false;
    }
    const copy = Buffer.from(data);
    this.written.push(copy);
    this.queue.push({ data: copy, callback });
    this.queued += copy.length;
    this.conn.network.schedule();
    const below = this.queued < this.conn.highWaterMark;
    if (!below) this.wantDrain = true;
    return below;
  }

  end(): void {
    if (!(this.bidirectional || this.local)) throw new Error(`stream ${this.id} is receive-only`);
    this.endCalled = true;
    if (this.finQueued || this.sendDone || this.conn.isClosed) return;
    this.finQueued = true;
    this.conn.network.schedule();
  }

  reset(code: number): void {
    if (!(this.bidirectional || this.local)) throw new Error(`stream ${this.id} is receive-only`);
    if (this.sendDone || this.conn.isClosed) return;
    this.sentResets.push(code);
    this.abortSending(code);
  }

  stopSending(code: number): void {
    if (!(this.bidirectional || !this.local)) throw new Error(`stream ${this.id} is send-only`);
    if (this.recvDone || this.conn.isClosed || this.sentStopSending.length > 0) return;
    this.sentStopSending.push(code);
    const sender = this.peer;
    this.conn.network.post(() => {
      if (sender.sendDone || sender.conn.isClosed) return;
      sender.ensureAnnounced();
      sender.stopped = true;
      sender.receivedStopSending.push(code);
      sender.emit('stopSending', code);
      if (this.conn.resetOnStopSending && !sender.sendDone) {
        sender.sentResets.push(code);
        sender.abortSending(code);
      }
    });
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.conn.network.schedule();
  }

  /** Drops what is queued and delivers RESET_STREAM to the peer on a later tick. */
  private abortSending(code: number): void {
    this.sendDone = true;
    this.stopped = true;
    const dropped = this.queue;
    this.queue = [];
    this.queued = 0;
    const receiver = this.peer;
    this.conn.network.post(() => {
      for (const item of dropped) item.callback?.(new Error(`stream reset with code 0x${code.toString(16)}`));
      if (!receiver.recvDone && !receiver.conn.isClosed) {
        receiver.ensureAnnounced();
        receiver.recvDone = true;
        receiver.receivedResets.push(code);
        receiver.emit('reset', code);
        receiver.checkClose();
      }
      this.checkClose();
    });
  }

  ensureAnnounced(): void {
    if (this.announced) return;
    this.announced = true;
    this.conn.emit('stream', this);
  }

  /** Moves queued bytes (and then FIN) to the peer while it is not paused. */
  pump(): void {
    if (this.conn.isClosed || this.sendDone) return;
    const receiver = this.peer;
    while (this.queue.length > 0 && !receiver.paused && !receiver.recvDone && !this.sendDone) {
      const item = this.queue.shift() as { data: Buffer; callback?: (error?: Error | null) => void };
      this.queued -= item.data.length;
      receiver.ensureAnnounced();
      receiver.emit('data', item.data);
      item.callback?.(null);
    }
    if (this.wantDrain && this.queued < this.conn.highWaterMark && !this.sendDone) {
      this.wantDrain = false;
      this.emit('drain');
    }
    if (this.queue.length === 0 && this.finQueued && !this.sendDone && !receiver.paused) {
      this.sendDone = true;
      if (!receiver.recvDone) {
        receiver.ensureAnnounced();
        receiver.recvDone = true;
        receiver.emit('end');
        receiver.checkClose();
      }
      this.checkClose();
    }
  }

  checkClose(): void {
    if (this.closed || !this.sendDone || !this.recvDone) return;
    this.closed = true;
    this.conn.forget(this);
    this.emit('close');
  }

  /** Connection teardown: every live stream gets 'close'. */
  forceClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.sendDone = true;
    this.recvDone = true;
    for (const item of this.queue) item.callback?.(new Error('connection closed'));
    this.queue = [];
    this.queued = 0;
    this.conn.forget(this);
    if (this.announced) this.emit('close');
  }
}

export class MemoryQuicConnection extends EventEmitter implements QuicConnection {
  readonly remoteAddress = '127.0.0.1';
  readonly remotePort: number;
  readonly alpn = 'h3';
  readonly serverName: string | null;
  readonly role: 'client' | 'server';
  readonly network: Network;
  readonly highWaterMark: number;
  readonly resetOnStopSending: boolean;
  peer!: MemoryQuicConnection;
  /** Live streams by id. */
  readonly streams = new Map<number, MemoryQuicStream>();
  /** Every stream ever seen on this side, by id (for assertions after they closed). */
  readonly allStreams = new Map<number, MemoryQuicStream>();
  /** What this side passed to close(), if it did. */
  closedWith: { code: number; reason: string } | null = null;
  closeInfo: QuicConnectionCloseInfo | null = null;
  maxStreamsBidi: number;
  maxStreamsUni: number;
  private nextBidi: number;
  private nextUni: number;
  private closing = false;

  private constructor(role: 'client' | 'server', network: Network, options: MemoryQuicOptions) {
    super();
    this.role = role;
    this.network = network;
    this.remotePort = role === 'server' ? 50000 : 443;
    this.serverName = role === 'server' ? 'localhost' : null;
    this.highWaterMark = options.highWaterMark ?? 256 * 1024;
    this.maxStreamsBidi = options.maxStreamsBidi ?? 1000;
    this.maxStreamsUni = options.maxStreamsUni ?? 100;
    this.resetOnStopSending = options.resetOnStopSending ?? true;
    const initiator = role === 'client' ? 0 : 1;
    this.nextBidi = initiator;
    this.nextUni = initiator + 2;
  }

  /** [client, server]. */
  static pair(options: MemoryQuicOptions = {}): [MemoryQuicConnection, MemoryQuicConnection] {
    const network = new Network();
    const client = new MemoryQuicConnection('client', network, options);
    const server = new MemoryQuicConnection('server', network, options);
    client.peer = server;
    server.peer = client;
    network.ends.push(client, server);
    return [client, server];
  }

  get isClosed(): boolean {
    return this.closeInfo !== null;
  }

  openStream(bidirectional: boolean): MemoryQuicStream {
    if (this.closing || this.isClosed) throw new Error('connection closed');
    let open = 0;
    for (const stream of this.streams.values()) if (stream.local && stream.bidirectional === bidirectional) open++;
    if (open >= (bidirectional ? this.maxStreamsBidi : this.maxStreamsUni)) {
      throw new Error(`stream limit reached (${bidirectional ? 'bidirectional' : 'unidirectional'})`);
    }
    const id = bidirectional ? this.nextBidi : this.nextUni;
    if (bidirectional) this.nextBidi += 4;
    else this.nextUni += 4;
    const mine = new MemoryQuicStream(this, id, bidirectional, true);
    const theirs = new MemoryQuicStream(this.peer, id, bidirectional, false);
    mine.peer = theirs;
    theirs.peer = mine;
    this.streams.set(id, mine);
    this.allStreams.set(id, mine);
    this.peer.streams.set(id, theirs);
    this.peer.allStreams.set(id, theirs);
    return mine;
  }

  close(code: number, reason = ''): void {
    if (this.closing || this.isClosed) return;
    this.closing = true;
    this.closedWith = { code, reason };
    this.network.post(() => {
      // Data written before CONNECTION_CLOSE went out in earlier packets.
      this.network.pumpAll();
      for (const [end, local] of [
        [this, true],
        [this.peer, false],
      ] as const) {
        if (end.isClosed) continue;
        for (const stream of [...end.streams.values()]) stream.forceClose();
        end.closeInfo = { isApp: true, code, reason, local, timedOut: false };
      }
      this.emit('close', this.closeInfo);
      this.peer.emit('close', this.peer.closeInfo);
    });
  }

  forget(stream: MemoryQuicStream): void {
    this.streams.delete(stream.id);
  }

  /** Resolves with the close info once the connection is gone. */
  whenClosed(): Promise<QuicConnectionCloseInfo> {
    if (this.closeInfo) return Promise.resolve(this.closeInfo);
    return new Promise((resolve) => this.once('close', resolve));
  }

  /** The peer-opened stream with this id (waits for it to be announced). */
  waitForStream(id: number): Promise<MemoryQuicStream> {
    const existing = this.allStreams.get(id);
    if (existing && existing.announced) return Promise.resolve(existing);
    return new Promise((resolve) => {
      const onStream = (stream: MemoryQuicStream): void => {
        if (stream.id !== id) return;
        this.off('stream', onStream);
        resolve(stream);
      };
      this.on('stream', onStream);
    });
  }
}

/** Resolves after pending in-memory traffic has been delivered (a few macrotasks). */
export async function settle(rounds = 6): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}
