// The conformance suite against our server over HTTP/3 (RFC 9220), with the
// QUIC and HTTP/3 client side played by quic-go (test/interop/go, bridge mode)
// instead of our own stack: ./http3.test.ts runs the same cases over ours.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startGoBridgeTarget } from './http3-go-target.js';
import { runConformance } from './suite.js';
import { EXPECT, LIMITS, startTridentEcho } from './trident-server.js';

const server = await startTridentEcho({ tls: true, http3: true });
t.teardown(() => server.server.close());
const caFile = join(mkdtempSync(join(tmpdir(), 'trident-conf-h3go-')), 'ca.crt');
writeFileSync(caFile, server.ca!);
const { target, stop } = await startGoBridgeTarget({ port: server.port, caFile, name: 'trident h3 via quic-go', limits: LIMITS, expect: EXPECT });
t.teardown(stop);
await runConformance(t, target);
