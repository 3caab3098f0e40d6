/**
 * A QUIC client connection on its own connected UDP socket (a connected
 * socket only hears from the server, and sends without an address lookup).
 *
 * Certificate checks: BoringSSL verifies the chain against `ca` and, for a
 * DNS name, the name (quiche sets it as the expected host). An IP literal is
 * not a valid SNI (RFC 6066 §3) and BoringSSL would compare it against DNS
 * names only, so for one we send no SNI and check the certificate's IP
 * addresses ourselves once the handshake is done (RFC 6125 / RFC 9110 §4.3.4).
 */
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import { loadQuiche, type HostPort } from './binding.js';
import { randomCid } from './cid.js';
import { buildClientConfig, packetSizeFor, resolveTransport } from './config.js';
import { QuicConnectionImpl, type ConnectionOwner } from './connection.js';
import { resolveHost, UdpEndpoint } from './endpoint.js';
import { describeClose, QuicConnectionError } from './errors.js';
import type { QuicClientOptions, QuicConnection, QuicConnectionCloseInfo } from './types.js';

/** Engine options beyond the contract (types.ts). */
export interface QuicClientEngineOptions extends QuicClientOptions {
  /** pino logger for debug logs; default: none. */
  logger?: Logger;
}

/** CRYPTO_ERROR for the TLS alert bad_certificate (RFC 9001 §4.8: 0x100 + 42). */
const BAD_CERTIFICATE = 0x100 + 42;

class ClientOwner implements ConnectionOwner {
  connection!: QuicConnectionImpl;
  private settled = false;
  private handshakeTimer: NodeJS.Timeout | null = null;
  private timedOut = false;
  /** Whether any datagram came from the server; until then an ICMP error means nobody listens. */
  heardFromServer = false;
  private portUnreachable = false;

  constructor(
    readonly endpoint: UdpEndpoint,
    private readonly options: QuicClientEngineOptions,
    /** An IP literal to find among the certificate's IP addresses, or null. */
    private readonly expectedIp: string | null,
    private readonly resolve: (connection: QuicConnection) => void,
    private readonly reject: (error: Error) => void,
  ) {}

  start(handshakeTimeout: number): void {
    this.handshakeTimer = setTimeout(() => {
      this.timedOut = true;
      this.connection.closeTransport(0x0, 'handshake timeout');
    }, handshakeTimeout);
    // The first flight (RFC 9000 §7): quiche has the Initial ready.
    this.endpoint.schedule(this.connection);
  }

  /**
   * ICMP port unreachable before the server ever answered: nothing listens on
   * that UDP port, so fail now instead of retransmitting Initials until the
   * handshake timeout. Later ICMP errors are left to the timeouts (see connectQuic).
   */
  onSocketError(error: NodeJS.ErrnoException): void {
    if (this.settled || this.heardFromServer || error.code !== 'ECONNREFUSED') return;
    this.portUnreachable = true;
    this.connection.destroy('port unreachable');
  }

  onEstablished(connection: QuicConnectionImpl): void {
    const verify = this.options.rejectUnauthorized ?? true;
    if (verify && this.expectedIp !== null && !this.certificateHasIp(connection)) {
      connection.closeTransport(BAD_CERTIFICATE, `certificate is not valid for ${this.expectedIp}`, false);
      return;
    }
    this.settle();
    this.resolve(connection);
    // Streams the server opened right away wait until the caller, resumed by
    // the promise, could attach its 'stream' listener.
    setImmediate(() => connection.releaseStreams());
  }

  private certificateHasIp(connection: QuicConnectionImpl): boolean {
    const chain = connection.native.peerCertChain();
    if (chain === null || chain.length === 0) return false;
    try {
      return new X509Certificate(chain[0]!).checkIP(this.expectedIp!) !== undefined;
    } catch {
      return false;
    }
  }

  onClosed(_connection: QuicConnectionImpl, info: QuicConnectionCloseInfo): void {
    if (this.settled) return;
    this.settle();
    const target = `${this.options.host}:${this.options.port}`;
    const message = this.timedOut
      ? `QUIC handshake with ${target} timed out`
      : this.portUnreachable
        ? `nothing listens on UDP ${target} (ICMP port unreachable)`
        : `QUIC connection to ${target} failed: ${describeClose(info)}`;
    this.reject(new QuicConnectionError(message, info));
  }

  onFinished(): void {
    void this.endpoint.close();
  }

  private settle(): void {
    this.settled = true;
    if (this.handshakeTimer !== null) {
      clearTimeout(this.handshakeTimer);
      this.handshakeTimer = null;
    }
  }
}

/** Connects and completes the handshake; rejects with QuicConnectionError (QuicUnavailableError without the native module). */
export async function connectQuic(options: QuicClientEngineOptions): Promise<QuicConnection> {
  const quiche = loadQuiche();
  const transport = resolveTransport(options);
  const handshakeTimeout = options.handshakeTimeout ?? 10_000;
  const remote = await resolveHost(options.host);
  const packetSize = packetSizeFor(transport, remote.address);
  const config = buildClientConfig(quiche, options, transport, packetSize);
  const endpoint = await UdpEndpoint.open(
    { address: remote.family === 6 ? '::' : '0.0.0.0', family: remote.family, port: 0 },
    packetSize,
    { address: remote.address, port: options.port },
  );
  const bound = endpoint.socket.address();
  const local: HostPort = { host: bound.address, port: bound.port };
  const peer: HostPort = { host: remote.address, port: options.port };
  const servername = options.servername ?? options.host;
  const bareName = servername.startsWith('[') && servername.endsWith(']') ? servername.slice(1, -1) : servername;
  const nameIsIp = isIP(bareName) !== 0;

  let native;
  try {
    native = quiche.Connection.connect(nameIsIp ? null : bareName, randomCid(), local, peer, config);
  } catch (error) {
    await endpoint.close();
    throw new QuicConnectionError(`cannot start a QUIC connection: ${(error as Error).message}`);
  }
  return new Promise<QuicConnection>((resolve, reject) => {
    const owner = new ClientOwner(endpoint, options, nameIsIp ? bareName : null, resolve, reject);
    const connection = new QuicConnectionImpl(owner, native, false, local, peer, transport, options.logger);
    owner.connection = connection;
    endpoint.socket.on('message', (datagram, from) => {
      owner.heardFromServer = true;
      connection.receive(datagram, from);
    });
    // On a connected socket Linux reports ICMP errors (ECONNREFUSED for "port
    // unreachable") as receive errors. They are unauthenticated and may be
    // transient, so, as QUIC stacks commonly do, once the server has answered
    // they do not end the connection: the handshake or idle timeout does.
    // Before any answer, port unreachable ends the attempt at once.
    endpoint.socket.on('error', (error) => {
      options.logger?.debug({ err: error }, 'quic: client socket error');
      owner.onSocketError(error);
    });
    owner.start(handshakeTimeout);
  });
}
