// Exact verdicts of our server on the RFC 8441 / RFC 9220 handshake cases
// whose lenient forms (any 4xx, any answer) the full conformance runs accept:
// a malformed extended CONNECT is answered 400 or reset as malformed, and one
// sent before the server's SETTINGS were read is still accepted.
import t from 'tap';
import { runSuite } from '../../src/conformance/suite.js';
import { createHttp2Target } from '../../src/conformance/targets/http2.js';
import { createHttp3Target } from '../../src/conformance/targets/http3.js';
import { startTridentEcho } from './trident-server.js';

const server = await startTridentEcho({ tls: true, http3: true });
t.teardown(() => server.server.close());

const verdicts = async (target: Parameters<typeof runSuite>[0], select: string[]) => {
  const results = await runSuite(target, { select });
  return Object.fromEntries(results.map((r) => [r.id, `${r.verdict}: ${r.reason}`]));
};

t.test('HTTP/2: a CONNECT without :path or :scheme is a malformed request; an early CONNECT is accepted', async (t) => {
  const target = createHttp2Target({ origin: `https://127.0.0.1:${server.port}`, ca: server.ca, name: 'trident h2' });
  const v = await verdicts(target, ['21.4', '21.5', '21.11']);
  t.match(v['21.4'], /^OK/);
  t.match(v['21.5'], /^OK/);
  t.match(v['21.11'], /^OK/);
});

t.test('HTTP/3: a CONNECT without :path or :scheme is answered 400, not 404; an early CONNECT is accepted', async (t) => {
  const target = createHttp3Target({ host: '127.0.0.1', port: server.port, servername: 'localhost', ca: server.ca!, name: 'trident h3' });
  const v = await verdicts(target, ['22.4', '22.5', '22.11']);
  t.match(v['22.4'], /^OK/);
  t.match(v['22.5'], /^OK/);
  t.match(v['22.11'], /^OK/);
});

t.test('HTTP/2 servers that break these rules get the verdicts that say so', async (t) => {
  const { startBrokenH2 } = await import('./broken-h2-server.js');
  const run = async (flaw: 'not-found' | 'goaway', select: string[]) => {
    const broken = await startBrokenH2(flaw);
    try {
      return await verdicts(createHttp2Target({ origin: `http://127.0.0.1:${broken.port}`, name: flaw }), select);
    } finally {
      await broken.close();
    }
  };
  const notFound = await run('not-found', ['21.4', '21.5', '21.11']);
  t.match(notFound['21.4'], /^NON-STRICT: .*answered 404, not 400 or a stream error with code 1/, '404 for a missing :path is not the malformed answer');
  t.match(notFound['21.5'], /^NON-STRICT: .*answered 404/);
  t.match(notFound['21.11'], /^INFORMATIONAL: the server refused the early extended CONNECT \(:status 404\)/);
  const goaway = await run('goaway', ['21.4', '21.11']);
  t.match(goaway['21.4'], /^NON-STRICT: .*refused with GOAWAY code 1/, 'a connection error is more than the stream error');
  t.match(goaway['21.11'], /^NON-STRICT: the server closed the connection \(GOAWAY code 1\)/);
});
