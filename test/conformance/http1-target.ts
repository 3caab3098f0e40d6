// Moved to src/conformance/targets (shipped with `trident test`).
export * from '../../src/conformance/targets/http1.js';
