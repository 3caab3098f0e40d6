/**
 * One UDP socket and its output path, shared by every connection on it.
 *
 * Output is coalesced: a connection that has something to send marks itself
 * dirty, and one setImmediate per event-loop turn flushes every dirty
 * connection, so all datagrams read in one turn (libuv delivers them in a
 * batch) are answered by a single send() loop — quiche then acknowledges many
 * packets at once instead of one by one (measured: ~16 → ~50 MiB/s).
 *
 * dgram keeps a reference to the buffer it is given and may send later (on
 * EAGAIN libuv queues it), so a packet buffer is never reused: packets are cut
 * from a slab (slab.ts). The socket's lookup answers
 * synchronously (we only ever send to IP literals from quiche), so a send
 * does not wait for a dns.lookup tick.
 */
import dgram from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { packetSlab } from './slab.js';

const SOCKET_BUFFER_SIZE = 4 * 1024 * 1024;

export interface Flushable {
  /** Set by the endpoint while the connection waits for this turn's flush. */
  dirty: boolean;
  flush(): void;
}

function syncLookup(
  address: string,
  _options: unknown,
  callback: (error: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  callback(null, address, address.includes(':') ? 6 : 4);
}

export async function resolveHost(host: string): Promise<{ address: string; family: 4 | 6 }> {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const family = isIP(bare);
  if (family === 4 || family === 6) return { address: bare, family };
  const result = await dnsLookup(bare);
  return { address: result.address, family: result.family === 6 ? 6 : 4 };
}

export class UdpEndpoint {
  private dirtyList: Flushable[] = [];
  private spareList: Flushable[] = [];
  private scheduled = false;
  closed = false;

  private constructor(
    readonly socket: dgram.Socket,
    /** A connected (client) socket sends without an address. */
    private readonly connected: boolean,
    private readonly maxPacketSize: number,
  ) {}

  /** A socket bound to address:port (0 = any port); connected to `remote` for a client. */
  static async open(
    local: { address: string; family: 4 | 6; port: number },
    maxPacketSize: number,
    remote?: { address: string; port: number },
  ): Promise<UdpEndpoint> {
    const socket = dgram.createSocket({ type: local.family === 6 ? 'udp6' : 'udp4', lookup: syncLookup as never });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(local.port, local.address, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    if (remote !== undefined) {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.connect(remote.port, remote.address, () => {
          socket.off('error', reject);
          resolve();
        });
      });
    }
    // Bulk transfer arrives in bursts faster than JavaScript drains them; the
    // kernel caps these at net.core.[rw]mem_max, and some systems refuse large values.
    try {
      socket.setRecvBufferSize(SOCKET_BUFFER_SIZE);
      socket.setSendBufferSize(SOCKET_BUFFER_SIZE);
    } catch {
      // keep the defaults
    }
    return new UdpEndpoint(socket, remote !== undefined, maxPacketSize);
  }

  /** Queues `connection` for this turn's flush. */
  schedule(connection: Flushable): void {
    if (connection.dirty || this.closed) return;
    connection.dirty = true;
    this.dirtyList.push(connection);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.runFlush);
    }
  }

  private readonly runFlush = (): void => {
    this.scheduled = false;
    // Connections scheduled while flushing (an event handler writing on another
    // connection) go to the next turn's list.
    const list = this.dirtyList;
    this.dirtyList = this.spareList;
    let thrown: { error: unknown } | null = null;
    for (let i = 0; i < list.length; i++) {
      const connection = list[i]!;
      connection.dirty = false;
      try {
        connection.flush();
      } catch (error) {
        // An event handler threw: the other connections are still flushed,
        // then the error goes on as an uncaught exception, as from any emitter.
        thrown ??= { error };
      }
    }
    list.length = 0;
    this.spareList = list;
    if (thrown !== null) throw thrown.error;
  };

  /** Room for the next outgoing packet. */
  packetBuffer(): Buffer {
    return packetSlab.room(this.maxPacketSize);
  }

  /** Sends the first `length` bytes quiche wrote into packetBuffer(). */
  sendPacket(length: number, to: { host: string; port: number }): void {
    const packet = packetSlab.take(length);
    if (this.closed) return;
    // No callback: a failed send is a lost packet, which QUIC recovers from.
    if (this.connected) this.socket.send(packet);
    else this.socket.send(packet, to.port, to.host);
  }

  /** Sends a datagram built outside quiche (Retry, Version Negotiation, Stateless Reset). */
  sendRaw(packet: Uint8Array, port: number, host: string): void {
    if (this.closed) return;
    if (this.connected) this.socket.send(packet);
    else this.socket.send(packet, port, host);
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}
