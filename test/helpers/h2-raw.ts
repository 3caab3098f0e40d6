// Moved to src/conformance (the runner's raw HTTP/2 client for RFC 8441 cases); kept so existing tests keep their imports.
export * from '../../src/conformance/h2-raw.js';
