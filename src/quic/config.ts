/**
 * Transport parameters (RFC 9000 §18.2) and engine knobs: the documented
 * defaults of QuicTransportOptions and of a server's admission limits, and
 * the quiche Config built from them.
 */
import type { NativeConfig, Quiche } from './binding.js';
import type { HandshakeLimits } from './handshake-budget.js';
import type { QuicClientOptions, QuicServerOptions, QuicTransportOptions } from './types.js';

export interface ResolvedTransport {
  maxData: number;
  maxStreamData: number;
  maxStreamsBidi: number;
  maxStreamsUni: number;
  idleTimeout: number;
  maxPacketSize: number;
  loopbackPacketSize: number;
  congestionControl: 'cubic' | 'reno' | 'bbr';
  streamHighWaterMark: number;
}

export const DEFAULTS: Readonly<ResolvedTransport> = Object.freeze({
  maxData: 16 * 1024 * 1024,
  maxStreamData: 4 * 1024 * 1024,
  maxStreamsBidi: 1000,
  maxStreamsUni: 100,
  idleTimeout: 30_000,
  // 1350 fits the IPv6 minimum MTU plus tunnel overhead; full packets matter for throughput.
  maxPacketSize: 1350,
  // A loopback path's MTU is the interface's (65536 on Linux), not the
  // Internet's; per-datagram costs (a sendmsg and a packet's worth of quiche
  // work) dominate bulk transfer, so local peers get bigger packets (RFC 9000
  // §14: any size the path carries; the peer's max_udp_payload_size bounds it).
  loopbackPacketSize: 16 * 1024,
  congestionControl: 'cubic',
  streamHighWaterMark: 256 * 1024,
});

/** Variable-length integers stop at 2^62 - 1 (RFC 9000 §16); JavaScript numbers are exact to 2^53. */
function count(name: string, value: number | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`QUIC option ${name} must be an integer >= ${min}, got ${value}`);
  }
  return value;
}

export function resolveTransport(options: QuicTransportOptions): ResolvedTransport {
  const congestionControl = options.congestionControl ?? DEFAULTS.congestionControl;
  if (congestionControl !== 'cubic' && congestionControl !== 'reno' && congestionControl !== 'bbr') {
    throw new RangeError(`QUIC option congestionControl must be 'cubic', 'reno' or 'bbr', got ${String(congestionControl)}`);
  }
  const maxPacketSize = packetSize('maxPacketSize', options.maxPacketSize, DEFAULTS.maxPacketSize);
  const loopbackPacketSize = packetSize('loopbackPacketSize', options.loopbackPacketSize, DEFAULTS.loopbackPacketSize);
  return {
    maxData: count('maxData', options.maxData, DEFAULTS.maxData),
    maxStreamData: count('maxStreamData', options.maxStreamData, DEFAULTS.maxStreamData),
    maxStreamsBidi: count('maxStreamsBidi', options.maxStreamsBidi, DEFAULTS.maxStreamsBidi),
    maxStreamsUni: count('maxStreamsUni', options.maxStreamsUni, DEFAULTS.maxStreamsUni),
    idleTimeout: count('idleTimeout', options.idleTimeout, DEFAULTS.idleTimeout),
    maxPacketSize,
    loopbackPacketSize,
    congestionControl,
    streamHighWaterMark: count('streamHighWaterMark', options.streamHighWaterMark, DEFAULTS.streamHighWaterMark, 1),
  };
}

/** A server's admission limits: connections, handshakes (handshake-budget.ts) and stateless answers (rate-limit.ts). */
export interface ResolvedAdmission {
  maxConnections: number;
  handshakes: HandshakeLimits;
  retryRate: number;
  retryRatePerAddress: number;
}

export const ADMISSION_DEFAULTS = Object.freeze({
  maxConnections: 10_000,
  // A handshake is over in a round trip or two; 1,000 at once is thousands of
  // new connections per second, more than the TLS work one thread does (a
  // half-open connection holds ~60 KB: ~60 MB at most).
  maxHandshakes: 1000,
  // Room for many clients behind one NAT, and a tenth of the budget: a single
  // host cannot take it all.
  maxHandshakesPerAddress: 100,
  handshakeTimeout: 10_000,
  retryRate: 1000,
  retryRatePerAddress: 100,
});

export function resolveAdmission(options: QuicServerOptions): ResolvedAdmission {
  const d = ADMISSION_DEFAULTS;
  return {
    maxConnections: count('maxConnections', options.maxConnections, d.maxConnections),
    handshakes: {
      max: count('maxHandshakes', options.maxHandshakes, d.maxHandshakes, 1),
      perSource: count('maxHandshakesPerAddress', options.maxHandshakesPerAddress, d.maxHandshakesPerAddress, 1),
      timeout: count('handshakeTimeout', options.handshakeTimeout, d.handshakeTimeout, 1),
    },
    retryRate: count('retryRate', options.retryRate, d.retryRate, 1),
    retryRatePerAddress: count('retryRatePerAddress', options.retryRatePerAddress, d.retryRatePerAddress, 1),
  };
}

/** A UDP payload size: at least the 1200 bytes every QUIC path carries, at most 65527 (RFC 9000 §14, §18.2). */
function packetSize(name: string, value: number | undefined, fallback: number): number {
  const size = count(name, value, fallback, 1200);
  if (size > 65527) throw new RangeError(`QUIC option ${name} must be at most 65527 (RFC 9000 §18.2)`);
  return size;
}

/** Whether a peer is on this host (127.0.0.0/8, ::1, IPv4-mapped 127/8), where the loopback MTU applies. */
export function isLoopbackAddress(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.');
}

/** The largest datagram we send to `address`. */
export function packetSizeFor(t: ResolvedTransport, address: string): number {
  return isLoopbackAddress(address) ? t.loopbackPacketSize : t.maxPacketSize;
}

export function toBytes(value: Uint8Array | string): Uint8Array {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

function applyTransport(config: NativeConfig, t: ResolvedTransport, alpn: string[], packetSize: number): void {
  if (alpn.length === 0) throw new RangeError('QUIC option alpn must name at least one protocol');
  config.setApplicationProtos(alpn);
  config.setInitialMaxData(t.maxData);
  config.setInitialMaxStreamDataBidiLocal(t.maxStreamData);
  config.setInitialMaxStreamDataBidiRemote(t.maxStreamData);
  config.setInitialMaxStreamDataUni(t.maxStreamData);
  config.setInitialMaxStreamsBidi(t.maxStreamsBidi);
  config.setInitialMaxStreamsUni(t.maxStreamsUni);
  // max_idle_timeout 0 disables the idle timeout (RFC 9000 §10.1).
  config.setMaxIdleTimeout(t.idleTimeout);
  config.setMaxSendUdpPayloadSize(packetSize);
  config.setCcAlgorithmName(t.congestionControl);
  // Each connection has exactly one connection ID of ours (we issue no
  // NEW_CONNECTION_ID), so a peer moving to a new address keeps it; quiche
  // validates the new path itself (RFC 9000 §9).
}

export function buildServerConfig(quiche: Quiche, options: QuicServerOptions, t: ResolvedTransport, packetSize: number): NativeConfig {
  // verifyPeer false: no client certificates.
  const config = quiche.Config.withBoringSslCtx(false, false, null, [toBytes(options.key)], [toBytes(options.cert)], null);
  applyTransport(config, t, options.alpn ?? ['h3'], packetSize);
  return config;
}

export function buildClientConfig(quiche: Quiche, options: QuicClientOptions, t: ResolvedTransport, packetSize: number): NativeConfig {
  const verify = options.rejectUnauthorized ?? true;
  const ca = options.ca === undefined ? null : toBytes(options.ca);
  const config = quiche.Config.withBoringSslCtx(verify, false, ca, null, null, null);
  applyTransport(config, t, options.alpn ?? ['h3'], packetSize);
  return config;
}
