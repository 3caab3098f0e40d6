// The proof that the runner can fail a server: each deliberately broken server
// fails exactly the cases about the rule it breaks, and passes the others.
import t from 'tap';
import { runSuite } from '../../src/conformance/suite.js';
import { createHttp1Target } from '../../src/conformance/targets/http1.js';
import { startBrokenServer, type Flaw } from './broken-servers.js';

const failedIds = async (flaw: Flaw, select: string[], timeoutMs = 2000) => {
  const server = await startBrokenServer(flaw);
  try {
    const target = createHttp1Target({ host: '127.0.0.1', port: server.port, name: flaw, timeoutMs });
    const results = await runSuite(target, { select });
    return { results, failed: results.filter((r) => r.verdict === 'FAILED').map((r) => r.id) };
  } finally {
    await server.close();
  }
};

t.test('a server that accepts unmasked frames fails the masking cases only', async (t) => {
  const { results, failed } = await failedIds('no-mask-check', ['1.1.*', '2.1', '31.1.*']);
  t.equal(results.length, 14);
  t.same(failed, ['31.1.1', '31.1.2', '31.1.3', '31.1.4']);
  const r = results.find((x) => x.id === '31.1.1')!;
  t.match(r.reason, /expected a close frame \(1002\), got text frame/, 'the reason names what came instead of the close');
  t.ok(r.observed.some((o) => o.startsWith('← text frame')), 'the observed frames show the echo');
});

t.test('a server that echoes invalid UTF-8 fails the invalid-UTF-8 cases only', async (t) => {
  const { failed } = await failedIds('no-utf8-check', ['6.1.*', '6.2.*', '6.3.*', '28.2.1', '28.2.9', '28.1.1']);
  t.same(failed, ['6.3.1', '6.3.2', '28.2.1', '28.2.9']);
});

t.test('a server that ignores close frames fails the close cases, not the echo cases', async (t) => {
  const { failed, results } = await failedIds('ignores-close', ['1.1.1', '2.1', '7.1.1', '7.3.3', '7.7.1'], 300);
  t.same(failed, ['1.1.1', '2.1', '7.1.1', '7.3.3', '7.7.1'], 'every case ends with a close handshake, so all fail');
  for (const r of results) t.match(r.reason, /timeout|deadline/, `${r.id}: failed for the missing close reply`);
});

t.test('a server that fails connections without a close frame is NON-STRICT on exactly those cases', async (t) => {
  const { results, failed } = await failedIds('no-close-frame-on-failure', ['1.1.1', '3.1', '4.1.1', '7.1.1']);
  t.same(failed, []);
  t.same(
    results.map((r) => [r.id, r.verdict]),
    [
      ['1.1.1', 'OK'],
      ['3.1', 'NON-STRICT'],
      ['4.1.1', 'NON-STRICT'],
      ['7.1.1', 'OK'],
    ],
  );
  t.match(results[1]!.reason, /without a close frame/);
});

t.test('a stalled server cannot hang the run: every case ends FAILED within its deadline', async (t) => {
  const started = Date.now();
  const { results, failed } = await failedIds('stalls', ['1.1.1', '1.1.2', '2.1'], 300);
  t.equal(results.length, 3);
  t.same(failed, ['1.1.1', '1.1.2', '2.1']);
  t.ok(Date.now() - started < 3 * 3000 + 2000, 'bounded by the handshake timeouts');
});

t.test('an HTTP/2 server that accepts extended CONNECT without advertising SETTINGS_ENABLE_CONNECT_PROTOCOL fails 21.1', async (t) => {
  const { createServer } = await import('node:http2');
  const { createHttp2Target } = await import('../../src/conformance/targets/http2.js');
  // answers every stream 200 and echoes its bytes, but never sends the setting (RFC 8441 §3)
  const server = createServer();
  server.on('stream', (stream) => {
    stream.respond({ ':status': 200 });
    stream.pipe(stream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const port = (server.address() as import('node:net').AddressInfo).port;
  const results = await runSuite(createHttp2Target({ origin: `http://127.0.0.1:${port}`, name: 'no-setting' }), { select: ['21.1'] });
  t.same(results.map((r) => [r.id, r.verdict]), [['21.1', 'FAILED']]);
  t.match(results[0]!.reason, /SETTINGS_ENABLE_CONNECT_PROTOCOL = 1/);
  t.ok(results[0]!.observed.includes('SETTINGS_ENABLE_CONNECT_PROTOCOL absent'), 'the observation says what the server advertised');
});
