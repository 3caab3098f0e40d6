// Moved to src/conformance (shipped with `trident test`); kept so existing tests keep their imports.
export * from '../../src/conformance/stream-peer.js';
