/**
 * A QUIC server: one UDP socket, a table of connections by connection ID, and
 * the stateless answers to packets no connection owns — Version Negotiation
 * (RFC 9000 §6), Retry for address validation (§8.1.2), CONNECTION_REFUSED
 * beyond the connection cap or the handshake budget (initial-close.ts,
 * handshake-budget.ts), and Stateless Reset (§10.3). Every answer but the
 * Stateless Reset (tokens.ts limits those) goes through the token buckets of
 * rate-limit.ts first.
 *
 * The hot path — a short-header packet for a known connection — reads the
 * destination connection ID straight from the datagram (our IDs have a fixed
 * length, §17.3) and looks it up without allocating; long-header packets of
 * unknown connections are parsed by long-header.ts.
 */
import { EventEmitter } from 'node:events';
import type { RemoteInfo } from 'node:dgram';
import type { Logger } from 'pino';
import { loadQuiche, type HostPort, type NativeConfig, type Quiche } from './binding.js';
import { CID_LEN, CidTable, freshCid } from './cid.js';
import { buildServerConfig, isLoopbackAddress, resolveAdmission, resolveTransport, type ResolvedTransport } from './config.js';
import { QuicConnectionImpl, type ConnectionOwner } from './connection.js';
import { resolveHost, UdpEndpoint } from './endpoint.js';
import { TRANSPORT_ERROR_CONNECTION_REFUSED } from './errors.js';
import { HandshakeBudget } from './handshake-budget.js';
import { initialConnectionClose } from './initial-close.js';
import { PacketType, parseLongHeader, type LongHeader } from './long-header.js';
import { AnswerLimiter, sourceKey } from './rate-limit.js';
import { RetryTokens, StatelessResets } from './tokens.js';
import type { QuicConnectionCloseInfo, QuicServer, QuicServerOptions, QuicServerStats } from './types.js';

/** Engine options beyond the contract (types.ts). */
export interface QuicServerEngineOptions extends QuicServerOptions {
  /** pino logger for debug logs; default: none. */
  logger?: Logger;
  /**
   * Key for stateless reset tokens (RFC 9000 §10.3.2), at least 16 bytes.
   * Keep it across restarts so peers of connections lost in a restart learn
   * it at once; default: random per server.
   */
  statelessResetKey?: Uint8Array;
  /** Seconds a Retry token is accepted; default 10. */
  retryTokenLifetime?: number;
}

/** The smallest datagram that may carry a client's first Initial (RFC 9000 §14.1). */
const MIN_INITIAL_DATAGRAM = 1200;

interface ServerConnection extends QuicConnectionImpl {
  /** Our connection ID, and the client's original one when it names the connection too (no Retry). */
  scid?: Buffer;
  alias?: Buffer;
}

export class QuicServerImpl extends EventEmitter implements QuicServer, ConnectionOwner {
  private readonly quiche: Quiche;
  private readonly config: NativeConfig;
  /** The same transport parameters with the loopback packet size, for peers on this host. */
  private readonly loopbackConfig: NativeConfig;
  private readonly transport: ResolvedTransport;
  private readonly retry: boolean;
  private readonly maxConnections: number;
  private readonly handshakes: HandshakeBudget<ServerConnection>;
  private readonly answers: AnswerLimiter;
  readonly stats: QuicServerStats = { retries: 0, refused: 0, handshakeTimeouts: 0, answersDropped: 0 };
  private readonly logger: Logger | undefined;
  private readonly table = new CidTable<ServerConnection>();
  private readonly connections = new Set<ServerConnection>();
  private readonly retryTokens: RetryTokens;
  private readonly resets: StatelessResets;
  private endpointValue: UdpEndpoint | null = null;
  private local: HostPort = { host: '', port: 0 };
  private accepting = false;
  private listenCalled = false;
  /** Connections that have not emitted 'close' yet. */
  private live = 0;
  private closing: Promise<void> | null = null;
  private closeWaiter: (() => void) | null = null;

  constructor(options: QuicServerEngineOptions) {
    super();
    if (options.cert === undefined || options.key === undefined) throw new TypeError('createQuicServer needs cert and key');
    this.quiche = loadQuiche();
    this.transport = resolveTransport(options);
    this.config = buildServerConfig(this.quiche, options, this.transport, this.transport.maxPacketSize);
    this.loopbackConfig =
      this.transport.loopbackPacketSize === this.transport.maxPacketSize
        ? this.config
        : buildServerConfig(this.quiche, options, this.transport, this.transport.loopbackPacketSize);
    this.retry = options.retry ?? true;
    const admission = resolveAdmission(options);
    this.maxConnections = admission.maxConnections;
    this.handshakes = new HandshakeBudget(admission.handshakes, this.onHandshakeExpired);
    this.answers = new AnswerLimiter(admission.retryRate, admission.retryRatePerAddress);
    this.logger = options.logger;
    if (options.statelessResetKey !== undefined && options.statelessResetKey.length < 16) {
      throw new RangeError('statelessResetKey must have at least 16 bytes');
    }
    this.retryTokens = new RetryTokens(options.retryTokenLifetime ?? 10);
    this.resets = new StatelessResets(options.statelessResetKey);
  }

  get endpoint(): UdpEndpoint {
    return this.endpointValue!;
  }

  get connectionCount(): number {
    return this.live;
  }

  get handshakeCount(): number {
    return this.handshakes.size;
  }

  async listen(port: number, host: string): Promise<{ address: string; port: number }> {
    if (this.listenCalled || this.closing !== null) throw new Error('QUIC server is already listening or closed');
    this.listenCalled = true;
    const resolved = await resolveHost(host);
    const endpoint = await UdpEndpoint.open({ ...resolved, port }, Math.max(this.transport.maxPacketSize, this.transport.loopbackPacketSize));
    if (this.closing !== null) {
      await endpoint.close();
      throw new Error('QUIC server was closed while it started listening');
    }
    this.endpointValue = endpoint;
    const address = endpoint.socket.address();
    this.local = { host: address.address, port: address.port };
    endpoint.socket.on('message', this.onMessage);
    endpoint.socket.on('error', (error) => this.emit('error', error));
    this.accepting = true;
    return { address: address.address, port: address.port };
  }

  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.accepting = false;
    this.closing = new Promise<void>((resolve) => {
      if (this.endpointValue === null) {
        resolve();
        return;
      }
      this.closeWaiter = resolve;
      for (const connection of this.connections) connection.closeTransport(0x0, 'server closing'); // NO_ERROR
      this.maybeClosed();
    });
    return this.closing;
  }

  private maybeClosed(): void {
    if (this.closeWaiter === null) return;
    // Every connection's CONNECTION_CLOSE went out in the flush that emitted its 'close'.
    for (const connection of this.connections) if (!connection.hasEmittedClose) return;
    const resolve = this.closeWaiter;
    this.closeWaiter = null;
    this.handshakes.close();
    // What is left is in its closing or draining period; the socket goes, so do they.
    for (const connection of [...this.connections]) connection.destroy();
    void this.endpointValue!.close().then(resolve);
  }

  // ---- datagrams ----

  private readonly onMessage = (datagram: Buffer, from: RemoteInfo): void => {
    const length = datagram.length;
    if (length === 0) return;
    if ((datagram[0]! & 0x80) === 0) {
      // Short header (RFC 9000 §17.3): the DCID follows the first byte.
      const connection = this.table.get(datagram, 1, CID_LEN);
      if (connection !== undefined) connection.receive(datagram, from);
      else this.unknownShort(datagram, from);
      return;
    }
    // Long header (§17.2): version (4), DCID length (1), DCID.
    if (length < 7) return;
    if (datagram[5] === CID_LEN) {
      const connection = this.table.get(datagram, 6, CID_LEN);
      if (connection !== undefined) {
        connection.receive(datagram, from);
        return;
      }
    }
    this.unknownLong(datagram, from);
  };

  /** A Stateless Reset for a connection we do not know (RFC 9000 §10.3). */
  private unknownShort(datagram: Buffer, from: RemoteInfo): void {
    if (datagram.length < 1 + CID_LEN || this.closing !== null) return;
    const reset = this.resets.build(datagram.subarray(1, 1 + CID_LEN), datagram.length);
    if (reset === null) return;
    this.logger?.debug({ peer: from.address, port: from.port }, 'quic: stateless reset sent');
    this.endpoint.sendRaw(reset, from.port, from.address);
  }

  private unknownLong(datagram: Buffer, from: RemoteInfo): void {
    const quiche = this.quiche;
    const version = datagram.readUInt32BE(1);
    if (version === 0) return; // Version Negotiation is never sent to a server
    if (!quiche.versionIsSupported(version)) {
      this.negotiateVersion(datagram, from);
      return;
    }
    const header = parseLongHeader(datagram);
    if (header === null) return; // not a QUIC packet
    if (this.table.hasAliases) {
      const alias = this.table.getAlias(header.dcid);
      if (alias !== undefined) {
        alias.receive(datagram, from);
        return;
      }
    }
    // Only an Initial opens a connection; 0-RTT is not offered, and anything
    // else for an unknown connection is stale.
    if (header.type !== PacketType.INITIAL || !this.accepting) return;
    // A client's first Initial datagram is padded to 1200 bytes (§14.1): this
    // also keeps every answer below (Retry, refusal) from amplifying (§8.1).
    if (datagram.length < MIN_INITIAL_DATAGRAM) return;

    const source = sourceKey(from.address);
    // Checked before Retry too: a source over its budget gets no Retry work.
    const refusal = this.live >= this.maxConnections ? 'connection limit reached' : this.handshakes.refusal(source);
    if (refusal !== null) {
      this.refuse(header, from, source, refusal);
      return;
    }
    let scid: Buffer;
    let odcid: Buffer | null = null;
    if (this.retry) {
      const token = header.token!;
      if (token.length === 0) {
        this.sendRetry(header, from, source);
        return;
      }
      // The DCID of an Initial after our Retry is the connection ID we chose in it.
      odcid = this.retryTokens.verify(token, header.dcid, from.address, from.port);
      if (odcid === null || header.dcid.length !== CID_LEN || this.table.has(header.dcid)) {
        this.logger?.debug({ peer: from.address, port: from.port }, 'quic: invalid retry token');
        return;
      }
      scid = Buffer.from(header.dcid);
    } else {
      scid = freshCid(this.table);
    }

    // quiche copies the config's transport parameters at accept(): this
    // connection's stateless_reset_token (§18.2) is derived from its ID.
    const config = isLoopbackAddress(from.address) ? this.loopbackConfig : this.config;
    config.setStatelessResetToken(this.resets.tokenBigInt(scid));
    let native;
    try {
      native = quiche.Connection.accept(scid, odcid, this.local, { host: from.address, port: from.port }, config);
    } catch (error) {
      this.logger?.debug({ err: error }, 'quic: accept failed');
      return;
    }
    const connection: ServerConnection = new QuicConnectionImpl(
      this,
      native,
      true,
      this.local,
      { host: from.address, port: from.port },
      this.transport,
      this.logger,
    );
    connection.scid = scid;
    this.table.add(scid, connection);
    if (odcid === null) {
      // The client repeats its first DCID until it hears from us.
      connection.alias = Buffer.from(header.dcid);
      this.table.addAlias(connection.alias, connection);
      // Without a Retry token, nothing has shown the address is the client's yet.
      connection.limitAmplification();
    }
    this.connections.add(connection);
    this.live++;
    this.handshakes.admit(connection, source);
    connection.receive(datagram, from);
  }

  /** Whether one more stateless answer may go to `source` (retryRate, retryRatePerAddress). */
  private mayAnswer(source: string): boolean {
    if (this.answers.allow(source)) return true;
    this.stats.answersDropped++;
    return false;
  }

  /** CONNECTION_REFUSED, statelessly, before any handshake work (RFC 9000 §5.2.2, §10.2.3). */
  private refuse(header: LongHeader, from: RemoteInfo, source: string, reason: string): void {
    this.stats.refused++;
    // A version 1 packet only: we can protect an Initial for no other version.
    if (header.version !== 1 || !this.mayAnswer(source)) return;
    this.logger?.debug({ peer: from.address, port: from.port, reason }, 'quic: connection refused');
    const close = initialConnectionClose(header.dcid, header.scid, TRANSPORT_ERROR_CONNECTION_REFUSED, reason);
    this.endpoint.sendRaw(close, from.port, from.address);
  }

  private negotiateVersion(datagram: Buffer, from: RemoteInfo): void {
    // Only to a datagram big enough to start a connection (§6.1), so it never amplifies.
    if (datagram.length < MIN_INITIAL_DATAGRAM || !this.accepting || !this.mayAnswer(sourceKey(from.address))) return;
    // Version-independent layout (RFC 8999 §5.1): DCID and SCID of up to 255 bytes.
    const dcidLength = datagram[5]!;
    const scidAt = 6 + dcidLength;
    if (scidAt >= datagram.length) return;
    const scidLength = datagram[scidAt]!;
    if (scidAt + 1 + scidLength > datagram.length) return;
    const dcid = datagram.subarray(6, scidAt);
    const scid = datagram.subarray(scidAt + 1, scidAt + 1 + scidLength);
    const out = Buffer.allocUnsafe(this.quiche.MAX_DATAGRAM_SIZE);
    let length: number;
    try {
      length = this.quiche.negotiateVersion(scid, dcid, out);
    } catch {
      return;
    }
    this.endpoint.sendRaw(out.subarray(0, length), from.port, from.address);
  }

  private sendRetry(header: LongHeader, from: RemoteInfo, source: string): void {
    if (!this.mayAnswer(source)) return;
    const newScid = freshCid(this.table);
    const token = this.retryTokens.mint(header.dcid, newScid, from.address, from.port);
    const out = Buffer.allocUnsafe(this.quiche.MAX_DATAGRAM_SIZE);
    let length: number;
    try {
      length = this.quiche.retry(header.scid, header.dcid, newScid, token, header.version, out);
    } catch (error) {
      this.logger?.debug({ err: error }, 'quic: retry failed');
      return;
    }
    this.stats.retries++;
    this.endpoint.sendRaw(out.subarray(0, length), from.port, from.address);
  }

  private readonly onHandshakeExpired = (connection: ServerConnection): void => {
    this.stats.handshakeTimeouts++;
    const peer = { address: connection.remoteAddress, port: connection.remotePort };
    this.logger?.debug(peer, 'quic: handshake timed out');
    // Silently, as on an idle timeout (RFC 9000 §10.1): the peer has shown no
    // sign of reading what we send, and a CONNECTION_CLOSE would be one more
    // datagram to an address that may not be validated.
    connection.destroy('handshake timeout', 0x0);
    this.emit('handshakeTimeout', peer);
  };

  // ---- ConnectionOwner ----

  onEstablished(connection: ServerConnection): void {
    this.handshakes.release(connection);
    this.emit('connection', connection);
  }

  onClosed(connection: ServerConnection, info: QuicConnectionCloseInfo): void {
    this.live--;
    this.handshakes.release(connection);
    this.logger?.debug({ peer: connection.remoteAddress, port: connection.remotePort, ...info }, 'quic: connection closed');
    if (this.closeWaiter !== null) setImmediate(() => this.maybeClosed());
  }

  onFinished(connection: ServerConnection): void {
    this.connections.delete(connection);
    if (connection.scid !== undefined) this.table.delete(connection.scid);
    if (connection.alias !== undefined) this.table.deleteAlias(connection.alias);
  }
}

/** A QUIC server (not listening yet); throws QuicUnavailableError when the native module is missing. */
export function createQuicServer(options: QuicServerEngineOptions): QuicServer {
  return new QuicServerImpl(options);
}
