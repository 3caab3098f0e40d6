// Moved to src/conformance/targets (shipped with `trident test`); this keeps the old test-side signatures.
import type { ClientHttp2Session } from 'node:http2';
import { connectH2 as connect } from '../../src/conformance/targets/http2.js';

export { createHttp2Target, extendedConnect, type Http2TargetOptions } from '../../src/conformance/targets/http2.js';

export const connectH2 = (origin: string, ca?: string | Buffer): Promise<ClientHttp2Session> => connect(origin, { ca });
