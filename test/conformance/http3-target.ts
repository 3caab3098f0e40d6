// Moved to src/conformance/targets (shipped with `trident test`); this keeps the old test-side signatures.
import { connectH3 as connect } from '../../src/conformance/targets/http3.js';
import type { Http3Session } from '../../src/http3/session.js';

export { createHttp3Target, extendedConnectH3, Http3Duplex, type Http3TargetOptions } from '../../src/conformance/targets/http3.js';

/** the test certificates name localhost */
export const connectH3 = (host: string, port: number, ca: string | Buffer): Promise<Http3Session> =>
  connect(host, port, { servername: 'localhost', ca });
