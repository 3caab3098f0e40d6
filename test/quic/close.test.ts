// Connection close with an application code and reason, idle timeout, server
// shutdown, and handshakes that must fail (certificate checks).
import dgram from 'node:dgram';
import { once } from 'node:events';
import t from 'tap';
import { QuicConnectionError, type QuicStream } from '../../src/quic/index.js';
import { closed, connect, getCerts, pair, shutdown, startServer } from './helpers.js';

t.test('an application close code and reason reach the peer; streams close first', async (t) => {
  const p = await pair();
  t.teardown(() => shutdown(p));
  const order: string[] = [];
  p.peer.on('stream', (stream: QuicStream) => stream.on('close', () => order.push('server stream close')));
  const stream = p.client.openStream(true);
  stream.on('close', () => order.push('client stream close'));
  stream.write(Buffer.from('opening'));
  await once(p.peer, 'stream');
  const atServer = closed(p.peer).then((info) => (order.push('server close'), info));
  const atClient = closed(p.client).then((info) => (order.push('client close'), info));
  p.client.close(0x0100, 'bye now');
  t.same(await atClient, { isApp: true, code: 0x0100, reason: 'bye now', local: true, timedOut: false });
  t.same(await atServer, { isApp: true, code: 0x0100, reason: 'bye now', local: false, timedOut: false });
  t.same(order, ['client stream close', 'client close', 'server stream close', 'server close']);
  t.throws(() => p.client.openStream(true), QuicConnectionError, 'no streams on a closed connection');
});

t.test('the server closes with an application code', async (t) => {
  const p = await pair();
  t.teardown(() => shutdown(p));
  const atClient = closed(p.client);
  p.peer.close(0x0102, 'internal');
  t.same(await atClient, { isApp: true, code: 0x0102, reason: 'internal', local: false, timedOut: false });
});

t.test('idle timeout closes both sides with timedOut', async (t) => {
  const p = await pair({ idleTimeout: 300 }, { idleTimeout: 300 });
  t.teardown(() => shutdown(p));
  const [client, server] = await Promise.all([closed(p.client), closed(p.peer)]);
  t.same(client, { isApp: false, code: 0, reason: '', local: false, timedOut: true });
  t.same(server, { isApp: false, code: 0, reason: '', local: false, timedOut: true });
  t.equal(p.server.connectionCount, 0);
});

t.test('server.close() closes live connections with NO_ERROR', async (t) => {
  const p = await pair();
  const atClient = closed(p.client);
  t.equal(p.server.connectionCount, 1);
  await p.server.close();
  t.equal(p.server.connectionCount, 0);
  t.same(await atClient, { isApp: false, code: 0, reason: 'server closing', local: false, timedOut: false });
});

t.test('certificate checks', async (t) => {
  const { server, port } = await startServer();
  t.teardown(() => server.close());
  const { otherCa } = getCerts();

  const unknownCa = await connect(port, { ca: otherCa }).then(
    () => null,
    (error: unknown) => error,
  );
  t.type(unknownCa, QuicConnectionError, 'an unknown CA fails the handshake');
  t.match((unknownCa as QuicConnectionError).message, /TLS alert 48 \(unknown_ca\)/);
  t.match((unknownCa as QuicConnectionError).info, { isApp: false, code: 0x100 + 48, local: true });

  const wrongName = await connect(port, { servername: 'example.com' }).then(
    () => null,
    (error: unknown) => error,
  );
  t.type(wrongName, QuicConnectionError, 'a name the certificate does not cover fails');
  t.match((wrongName as QuicConnectionError).info, { code: 0x100 + 42 });

  const byIp = await connect(port, { servername: undefined });
  t.pass('an IP literal is checked against the certificate’s IP addresses (127.0.0.1)');
  const byIpClosed = closed(byIp);
  byIp.close(0);
  await byIpClosed;

  const insecure = await connect(port, { ca: otherCa, rejectUnauthorized: false });
  t.pass('rejectUnauthorized: false skips verification');
  const insecureClosed = closed(insecure);
  insecure.close(0);
  await insecureClosed;
});

t.test('a certificate without the IP address is refused for that IP', async (t) => {
  const { server, port } = await startServer({}, '127.0.0.2');
  t.teardown(() => server.close());
  let accepted = 0;
  server.on('connection', () => accepted++);
  const error = await connect(port, { servername: undefined }, '127.0.0.2').then(
    () => null,
    (e: unknown) => e,
  );
  t.type(error, QuicConnectionError);
  t.match((error as QuicConnectionError).message, /certificate is not valid for 127\.0\.0\.2/);
  t.match((error as QuicConnectionError).info, { isApp: false, code: 0x100 + 42, local: true });
  // The client closed before sending its TLS Finished: the server never saw a
  // completed handshake. (A later connection's datagrams queue behind the close.)
  const later = once(server, 'connection');
  const ok = await connect(port, {}, '127.0.0.2');
  await later;
  t.equal(accepted, 1, "only the later connection reached 'connection'");
  const okClosed = closed(ok);
  ok.close(0);
  await okClosed;

});

t.test('handshake timeout when nobody answers', async (t) => {
  // A UDP socket that takes the datagrams and never answers (a closed port
  // would answer with ICMP port unreachable, which ends the attempt at once).
  const silent = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
  t.teardown(() => silent.close());
  const error = await connect(silent.address().port, { handshakeTimeout: 200 }).then(
    () => null,
    (e: unknown) => e,
  );
  t.type(error, QuicConnectionError);
  t.match((error as Error).message, /timed out/);
});

t.test('ICMP port unreachable before any answer ends the handshake at once', async (t) => {
  const { server, port } = await startServer();
  await server.close(); // the port is free now: the kernel answers with ICMP port unreachable
  const error = await connect(port, { handshakeTimeout: 600_000 }).then(
    () => null,
    (e: unknown) => e,
  );
  t.type(error, QuicConnectionError);
  t.match((error as Error).message, /nothing listens on UDP 127\.0\.0\.1:\d+ \(ICMP port unreachable\)/);
});
