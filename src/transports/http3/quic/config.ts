/**
 * Transport parameters (RFC 9000 §18.2) and engine knobs: the documented
 * defaults of QuicTransportOptions, and the quiche Config built from them.
 */
import type { NativeConfig, Quiche } from './binding.js';
import type { QuicClientOptions, QuicServerOptions, QuicTransportOptions } from './types.js';

export interface ResolvedTransport {
  maxData: number;
  maxStreamData: number;
  maxStreamsBidi: number;
  maxStreamsUni: number;
  idleTimeout: number;
  maxPacketSize: number;
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
  const maxPacketSize = count('maxPacketSize', options.maxPacketSize, DEFAULTS.maxPacketSize, 1200);
  if (maxPacketSize > 65527) throw new RangeError('QUIC option maxPacketSize must be at most 65527 (RFC 9000 §18.2)');
  return {
    maxData: count('maxData', options.maxData, DEFAULTS.maxData),
    maxStreamData: count('maxStreamData', options.maxStreamData, DEFAULTS.maxStreamData),
    maxStreamsBidi: count('maxStreamsBidi', options.maxStreamsBidi, DEFAULTS.maxStreamsBidi),
    maxStreamsUni: count('maxStreamsUni', options.maxStreamsUni, DEFAULTS.maxStreamsUni),
    idleTimeout: count('idleTimeout', options.idleTimeout, DEFAULTS.idleTimeout),
    maxPacketSize,
    congestionControl,
    streamHighWaterMark: count('streamHighWaterMark', options.streamHighWaterMark, DEFAULTS.streamHighWaterMark, 1),
  };
}

export function toBytes(value: Uint8Array | string): Uint8Array {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

function applyTransport(config: NativeConfig, t: ResolvedTransport, alpn: string[]): void {
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
  config.setMaxSendUdpPayloadSize(t.maxPacketSize);
  config.setCcAlgorithmName(t.congestionControl);
  // Each connection has exactly one connection ID of ours (we issue no
  // NEW_CONNECTION_ID), so a peer moving to a new address keeps it; quiche
  // validates the new path itself (RFC 9000 §9).
}

export function buildServerConfig(quiche: Quiche, options: QuicServerOptions, t: ResolvedTransport): NativeConfig {
  // verifyPeer false: no client certificates.
  const config = quiche.Config.withBoringSslCtx(false, false, null, [toBytes(options.key)], [toBytes(options.cert)], null);
  applyTransport(config, t, options.alpn ?? ['h3']);
  return config;
}

export function buildClientConfig(quiche: Quiche, options: QuicClientOptions, t: ResolvedTransport): NativeConfig {
  const verify = options.rejectUnauthorized ?? true;
  const ca = options.ca === undefined ? null : toBytes(options.ca);
  const config = quiche.Config.withBoringSslCtx(verify, false, ca, null, null, null);
  applyTransport(config, t, options.alpn ?? ['h3']);
  return config;
}
