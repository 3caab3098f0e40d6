/**
 * The raw quiche binding shipped by @matrixai/quic (quiche 0.18 + BoringSSL,
 * napi-rs). We use its connection API directly — never the package's
 * high-level QUICServer/QUICClient — so this file pins the exact shapes we rely
 * on (the package's own declarations live behind its exports map, and the
 * surface is internal, hence the exact version pin in package.json).
 *
 * Loading is lazy: nothing imports the native module at module-evaluation
 * time, so a platform without the prebuilt package loses HTTP/3 only, with
 * the clear error below, when a QUIC server or client is actually created.
 */
import { createRequire } from 'node:module';

export interface HostPort {
  host: string;
  port: number;
}

export interface RecvInfo {
  from: HostPort;
  to: HostPort;
}

export interface SendInfo {
  from: HostPort;
  to: HostPort;
  /** Pacing hint (an opaque native handle); the driver does not pace. */
  at: unknown;
}

export interface NativeConnectionError {
  isApp: boolean;
  errorCode: number;
  reason: Uint8Array;
}

export interface NativeConfig {
  setApplicationProtos(protos: string[]): void;
  setMaxIdleTimeout(ms: number): void;
  setMaxRecvUdpPayloadSize(size: number): void;
  setMaxSendUdpPayloadSize(size: number): void;
  setInitialMaxData(v: number): void;
  setInitialMaxStreamDataBidiLocal(v: number): void;
  setInitialMaxStreamDataBidiRemote(v: number): void;
  setInitialMaxStreamDataUni(v: number): void;
  setInitialMaxStreamsBidi(v: number): void;
  setInitialMaxStreamsUni(v: number): void;
  setCcAlgorithmName(name: string): void;
  setDisableActiveMigration(v: boolean): void;
  setActiveConnectionIdLimit(v: number): void;
  /** The stateless_reset_token transport parameter (RFC 9000 §18.2), a big-endian u128; copied into each connection at accept(). */
  setStatelessResetToken(v?: bigint | null): void;
  grease(v: boolean): void;
}

export interface NativeConfigConstructor {
  withBoringSslCtx(
    verifyPeer: boolean,
    verifyAllowFail: boolean,
    ca?: Uint8Array | null,
    key?: Uint8Array[] | null,
    cert?: Uint8Array[] | null,
    sigalgs?: string | null,
  ): NativeConfig;
}

/** Iterable of stream ids (a snapshot taken by quiche when created). */
export type StreamIter = Iterable<number>;

export interface NativeConnection {
  recv(data: Uint8Array, info: RecvInfo): number;
  send(out: Uint8Array): [number, SendInfo] | null;
  streamRecv(streamId: number, out: Uint8Array): [number, boolean] | null;
  streamSend(streamId: number, data: Uint8Array, fin: boolean): number | null;
  streamShutdown(streamId: number, direction: number, code: number): void | null;
  streamCapacity(streamId: number): number;
  streamReadable(streamId: number): boolean;
  peerStreamsLeftBidi(): number;
  peerStreamsLeftUni(): number;
  readable(): StreamIter;
  writable(): StreamIter;
  isReadable(): boolean;
  timeout(): number | null;
  onTimeout(): void;
  close(app: boolean, code: number, reason: Uint8Array): void | null;
  applicationProto(): Uint8Array;
  serverName(): string | null;
  peerCertChain(): Uint8Array[] | null;
  isEstablished(): boolean;
  isDraining(): boolean;
  isClosed(): boolean;
  isTimedOut(): boolean;
  peerError(): NativeConnectionError | null;
  localError(): NativeConnectionError | null;
  stats(): { recv: number; sent: number; lost: number; sentBytes: number; recvBytes: number };
}

export interface NativeConnectionConstructor {
  connect(serverName: string | null, scid: Uint8Array, local: HostPort, remote: HostPort, config: NativeConfig): NativeConnection;
  accept(scid: Uint8Array, odcid: Uint8Array | null, local: HostPort, remote: HostPort, config: NativeConfig): NativeConnection;
}

export interface NativeHeader {
  ty: number;
  version: number;
  dcid: Uint8Array;
  scid: Uint8Array;
  token?: Uint8Array;
}

export interface Quiche {
  Config: NativeConfigConstructor;
  Connection: NativeConnectionConstructor;
  Header: { fromSlice(data: Uint8Array, dcidLen: number): NativeHeader };
  negotiateVersion(scid: Uint8Array, dcid: Uint8Array, out: Uint8Array): number;
  retry(scid: Uint8Array, dcid: Uint8Array, newScid: Uint8Array, token: Uint8Array, version: number, out: Uint8Array): number;
  versionIsSupported(version: number): boolean;
  Shutdown: { Read: number; Write: number };
  Type: { Initial: number; Retry: number; Handshake: number; ZeroRTT: number; VersionNegotiation: number; Short: number };
  MAX_CONN_ID_LEN: number;
  PROTOCOL_VERSION: number;
  MAX_DATAGRAM_SIZE: number;
}

/** HTTP/3 cannot run here: the prebuilt native QUIC module is missing or does not load. */
export class QuicUnavailableError extends Error {
  override readonly name = 'QuicUnavailableError';
  readonly code = 'ERR_QUIC_UNAVAILABLE';
}

/**
 * The prebuilt binding packages of @matrixai/quic 2.0.9, best match first.
 * Only the linux-x64 one is actually published in the registry for 2.0.9, so
 * trident-ws depends on it directly (as an optional dependency), without the
 * wrapper package whose high-level API we do not use.
 */
function platformPackages(): string[] {
  const names = [`@matrixai/quic-${process.platform}-${process.arch}`];
  if (process.platform === 'darwin') names.push('@matrixai/quic-darwin-universal');
  return names;
}

let loaded: Quiche | undefined;
let failure: QuicUnavailableError | undefined;

/** Loads the native module once; throws QuicUnavailableError (also on every later call) when it cannot. */
export function loadQuiche(): Quiche {
  if (loaded !== undefined) return loaded;
  if (failure !== undefined) throw failure;
  try {
    loaded = loadFrom(platformPackages());
    return loaded;
  } catch (error) {
    failure = error as QuicUnavailableError;
    throw failure;
  }
}

/** Requires the first of `names` that exists (exported for tests). */
export function loadFrom(names: string[]): Quiche {
  const require = createRequire(import.meta.url);
  let lastError: unknown;
  for (const name of names) {
    try {
      const binding = require(name) as Quiche;
      if (typeof binding.Connection?.accept !== 'function' || typeof binding.retry !== 'function') {
        throw new Error(`${name} has unexpected exports (not the 2.0.9 binding?)`);
      }
      return binding;
    } catch (error) {
      lastError = error;
      if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') break;
    }
  }
  throw new QuicUnavailableError(
    `HTTP/3 is unavailable: the native QUIC module (${names.join(' or ')}) could not be loaded ` +
      `(${(lastError as Error).message.split('\n')[0]}). trident-ws installs it as an optional dependency ` +
      '(@matrixai/quic-linux-x64 2.0.9, published for linux-x64 only); HTTP/1.1 and HTTP/2 are unaffected.',
    { cause: lastError },
  );
}

/** Whether HTTP/3 can run on this platform (the native module loads). */
export function quicAvailable(): boolean {
  try {
    loadQuiche();
    return true;
  } catch {
    return false;
  }
}
