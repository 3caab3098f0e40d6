// The conformance suite (incl. category 20, the HTTP/1.1 handshake) against our own server over HTTP/1.1, cleartext and TLS.
import t from 'tap';
import { createHttp1Target } from './http1-target.js';
import { runConformance } from './suite.js';
import { EXPECT, FAIL_FAST_UTF8, LIMITS, startTridentEcho } from './trident-server.js';

const plain = await startTridentEcho();
t.teardown(() => plain.server.close());
await runConformance(t, createHttp1Target({ host: '127.0.0.1', port: plain.port, name: 'trident http/1.1', limits: LIMITS, expect: EXPECT }), { mustBeOk: FAIL_FAST_UTF8 });

const secure = await startTridentEcho({ tls: true });
t.teardown(() => secure.server.close());
await runConformance(
  t,
  createHttp1Target({ host: '127.0.0.1', port: secure.port, tls: { ca: secure.ca! }, name: 'trident https/1.1', limits: LIMITS, expect: EXPECT }),
  // TLS changes only how bytes are carried: framing, close handling and the handshake cover it
  { select: ['1.*', '5.*', '7.*', '20.*'] },
);
