// The conformance suite against our own server over HTTP/1.1, cleartext and TLS.
import t from 'tap';
import { createHttp1Target } from './http1-target.js';
import { runHttp1HandshakeCases } from './http1-handshake.js';
import { runConformance } from './suite.js';
import { EXPECT, LIMITS, startTridentEcho } from './trident-server.js';

const plain = await startTridentEcho();
t.teardown(() => plain.server.close());
await runConformance(t, createHttp1Target({ host: '127.0.0.1', port: plain.port, name: 'trident http/1.1', limits: LIMITS, expect: EXPECT }));
await runHttp1HandshakeCases(t, { host: '127.0.0.1', port: plain.port });

const secure = await startTridentEcho({ tls: true });
t.teardown(() => secure.server.close());
await runConformance(
  t,
  createHttp1Target({ host: '127.0.0.1', port: secure.port, tls: { rejectUnauthorized: false }, name: 'trident https/1.1', limits: LIMITS, expect: EXPECT }),
);
