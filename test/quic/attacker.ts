// A raw QUIC attacker for the robustness tests: one UDP socket, bound to a
// chosen loopback address (127.0.0.2 …, so its source differs from the
// well-behaved clients on 127.0.0.1), that builds client packets with quiche
// directly and sends only what the test says — it never answers on its own.
import dgram from 'node:dgram';
import { randomBytes, randomFillSync } from 'node:crypto';
import { loadQuiche, type HostPort, type NativeConnection } from '../../src/quic/binding.js';

/** Long-header packet type of a QUIC v1 datagram (RFC 9000 §17.2): 0 Initial, 2 Handshake, 3 Retry; null for a short header. */
export function longType(datagram: Buffer): number | null {
  return (datagram[0]! & 0x80) === 0 ? null : (datagram[0]! & 0x30) >> 4;
}

export const INITIAL = 0;
export const RETRY = 3;

export type HalfOpenOutcome = 'admitted' | 'refused';

/** The token of a Retry packet (RFC 9000 §17.2.5): after both connection IDs, before the 16-byte integrity tag. */
function retryToken(datagram: Buffer): Buffer {
  const scidAt = 6 + datagram[5]!;
  return Buffer.from(datagram.subarray(scidAt + 1 + datagram[scidAt]!, datagram.length - 16));
}

export class RawQuicSocket {
  /** Bytes of long-header datagrams received from the server (every answer to a handshake). */
  bytesIn = 0;
  /** Bytes sent, barriers excluded. */
  bytesOut = 0;
  /** Long-header datagrams received, by packet type. */
  readonly received = new Map<number, number>();
  private readonly routes = new Map<string, (datagram: Buffer) => void>();
  private barrierWaiter: (() => void) | null = null;

  private constructor(
    private readonly socket: dgram.Socket,
    readonly local: HostPort,
    private readonly serverPort: number,
  ) {
    socket.on('message', (datagram) => this.onMessage(datagram));
  }

  /** A socket on `host` (a loopback address) talking to the server on 127.0.0.1:`serverPort`. */
  static async open(host: string, serverPort: number): Promise<RawQuicSocket> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, host, resolve));
    return new RawQuicSocket(socket, { host, port: socket.address().port }, serverPort);
  }

  private get remote(): HostPort {
    return { host: '127.0.0.1', port: this.serverPort };
  }

  private onMessage(datagram: Buffer): void {
    const type = longType(datagram);
    if (type === null) {
      // A Stateless Reset: the answer to barrier().
      this.barrierWaiter?.();
      return;
    }
    this.bytesIn += datagram.length;
    this.received.set(type, (this.received.get(type) ?? 0) + 1);
    // Server packets carry our SCID as their DCID (§7.2); ours are 16 bytes.
    const route = this.routes.get(datagram.subarray(6, 6 + datagram[5]!).toString('hex'));
    route?.(datagram);
  }

  /** The last datagram sent. */
  lastSent: Buffer | null = null;
  /** The token of the last Retry received. */
  lastToken: Buffer | null = null;

  send(datagram: Buffer): void {
    this.lastSent = datagram;
    this.bytesOut += datagram.length;
    this.socket.send(datagram, this.serverPort, '127.0.0.1');
  }

  /** A quiche client connection to the server; nothing is sent until flush(). */
  connection(): { native: NativeConnection; scid: Buffer } {
    const quiche = loadQuiche();
    const config = quiche.Config.withBoringSslCtx(false, false, null, null, null, null);
    config.setApplicationProtos(['h3']);
    config.setMaxIdleTimeout(60_000);
    const scid = randomBytes(16);
    return { native: quiche.Connection.connect('localhost', scid, this.local, this.remote, config), scid };
  }

  /** Sends everything quiche has ready for `native`. */
  flush(native: NativeConnection): void {
    const out = Buffer.alloc(1500);
    for (let result = native.send(out); result !== null; result = native.send(out)) {
      this.send(Buffer.from(out.subarray(0, result[0])));
    }
  }

  /**
   * `count` client Initials, padded to 1,200 bytes (RFC 9000 §14.1): copies of
   * one, each with a Destination Connection ID of its own, so each looks like
   * a new connection to the server.
   */
  initials(count: number): Buffer[] {
    const out = Buffer.alloc(1500);
    const [length] = this.connection().native.send(out)!;
    const dcidLength = out[5]!;
    return Array.from({ length: count }, () => randomFillSync(Buffer.from(out.subarray(0, length)), 6, dcidLength));
  }

  /**
   * One connection that answers the server's Retry (when there is one) and
   * then goes silent. Resolves with the server's verdict on it: its Initial
   * (admitted) or CONNECTION_REFUSED.
   */
  halfOpen(): Promise<HalfOpenOutcome> {
    const { native, scid } = this.connection();
    const key = scid.toString('hex');
    return new Promise((resolve) => {
      this.routes.set(key, (datagram) => {
        const type = longType(datagram);
        try {
          native.recv(datagram, { from: this.remote, to: this.local });
        } catch {
          // undecryptable: not ours
        }
        if (type === RETRY) {
          this.lastToken = retryToken(datagram);
          this.flush(native); // the Initial again, with the token
          return;
        }
        const error = native.peerError();
        if (error !== null && !error.isApp && error.errorCode === 0x2) resolve('refused');
        else if (type === INITIAL) resolve('admitted');
        else return;
        this.routes.delete(key);
      });
      this.flush(native);
    });
  }

  /**
   * Sends an Initial that carries `token` — a Retry token the server gave
   * another connection — under a connection ID of our own choosing, properly
   * protected for it: the client is fed a Retry forged for that ID (anyone
   * can build one: its integrity key is public, RFC 9001 §5.8).
   */
  replayToken(token: Buffer): void {
    const quiche = loadQuiche();
    const { native, scid } = this.connection();
    const first = Buffer.alloc(1500);
    native.send(first); // the first Initial, never sent: it fixes the original DCID
    const odcid = first.subarray(6, 6 + first[5]!);
    const retry = Buffer.alloc(1500);
    const length = quiche.retry(scid, odcid, randomBytes(16), token, 1, retry);
    native.recv(retry.subarray(0, length), { from: this.remote, to: this.local });
    this.flush(native);
  }

  /**
   * Resolves once every datagram the server sent to this socket before the
   * call has arrived: a short-header packet for no connection draws a
   * Stateless Reset (RFC 9000 §10.3), sent after them on the same socket.
   */
  barrier(): Promise<void> {
    const probe = randomFillSync(Buffer.alloc(60));
    probe[0] = 0x40 | (probe[0]! & 0x3f); // short header, fixed bit
    return new Promise((resolve) => {
      this.barrierWaiter = () => {
        this.barrierWaiter = null;
        resolve();
      };
      this.socket.send(probe, this.serverPort, '127.0.0.1');
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
