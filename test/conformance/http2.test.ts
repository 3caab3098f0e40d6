// The conformance suite against our own server over HTTP/2 (RFC 8441): TLS with ALPN h2, and h2c.
import t from 'tap';
import { createHttp2Target } from './http2-target.js';
import { runConformance } from './suite.js';
import { EXPECT, FAIL_FAST_UTF8, LIMITS, startTridentEcho } from './trident-server.js';

const secure = await startTridentEcho({ tls: true });
t.teardown(() => secure.server.close());
await runConformance(
  t,
  createHttp2Target({ origin: `https://127.0.0.1:${secure.port}`, ca: secure.ca, name: 'trident h2', limits: LIMITS, expect: EXPECT }),
  { mustBeOk: FAIL_FAST_UTF8 },
);

const cleartext = await startTridentEcho({ h2c: true });
t.teardown(() => cleartext.server.close());
await runConformance(
  t,
  createHttp2Target({ origin: `http://127.0.0.1:${cleartext.port}`, name: 'trident h2c', limits: LIMITS, expect: EXPECT }),
  // h2c differs from h2 only below HTTP/2: framing, close handling and the RFC 8441 cases cover it
  { select: ['1.*', '5.*', '7.*', '21.*'] },
);
