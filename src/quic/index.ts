/**
 * The QUIC engine behind the HTTP/3 layer: a lean driver over quiche's raw
 * binding from @matrixai/quic (see /work/shared/notes/quic.md for why not its
 * high-level API). Importing this module does not load the native binding;
 * creating a server or client does.
 */
export type * from './types.js';
export { createQuicServer, type QuicServerEngineOptions } from './server.js';
export { connectQuic, type QuicClientEngineOptions } from './client.js';
export { QuicUnavailableError, quicAvailable } from './binding.js';
export { QuicConnectionError, describeClose } from './errors.js';
export { DEFAULTS as QUIC_DEFAULTS } from './config.js';
