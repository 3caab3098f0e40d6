// The conformance suite against our own server over HTTP/3 (RFC 9220).
import t from 'tap';
import { createHttp3Target } from './http3-target.js';
import { runConformance } from './suite.js';
import { EXPECT, FAIL_FAST_UTF8, LIMITS, startTridentEcho } from './trident-server.js';

const server = await startTridentEcho({ tls: true, http3: true });
t.teardown(() => server.server.close());
await runConformance(
  t,
  createHttp3Target({ host: '127.0.0.1', port: server.port, ca: server.ca!, name: 'trident h3', limits: LIMITS, expect: EXPECT }),
  { mustBeOk: FAIL_FAST_UTF8 },
);
