// Server-side machinery: lazy loading of the native module, Retry on and off,
// the connection cap, Version Negotiation and Stateless Reset.
import dgram from 'node:dgram';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import t from 'tap';
import { QuicConnectionError, type QuicConnection } from '../../src/quic/index.js';
import { closed, connect, echo, lossyProxy, readAll, startServer } from './helpers.js';

t.test('importing the engine does not load the native module', async (t) => {
  const cache = createRequire(import.meta.url).cache;
  t.notOk(Object.keys(cache).some((path) => path.includes('@matrixai/quic-')), 'not loaded before a server exists');
  const { server } = await startServer();
  t.ok(Object.keys(cache).some((path) => path.includes('@matrixai/quic-')), 'loaded by createQuicServer');
  await server.close();
});

/** Long-header packet type of a QUIC v1 datagram (RFC 9000 §17.2): 0 Initial, 2 Handshake, 3 Retry. */
function longType(datagram: Buffer): number | null {
  return (datagram[0]! & 0x80) === 0 ? null : (datagram[0]! & 0x30) >> 4;
}

for (const retry of [true, false]) {
  t.test(`retry ${retry ? 'on' : 'off'}`, async (t) => {
    const { server, port } = await startServer({ retry });
    const firstTypes: number[] = [];
    const proxy = await lossyProxy(port, 0, 0, 1, (datagram) => {
      if (firstTypes.length === 0) firstTypes.push(longType(datagram) ?? -1);
    });
    t.teardown(async () => {
      await server.close();
      await proxy.close();
    });
    server.on('connection', echo);
    const client = await connect(proxy.port);
    t.equal(firstTypes[0], retry ? 3 : 0, retry ? 'the server answered with Retry first' : 'the server answered with its Initial');
    const stream = client.openStream(true);
    const back = readAll(stream);
    stream.write(Buffer.from('validated'));
    stream.end();
    t.equal((await back).toString(), 'validated');
    const done = closed(client);
    client.close(0);
    await done;
  });
}

t.test('the connection cap refuses connection N+1 with CONNECTION_REFUSED', async (t) => {
  const { server, port } = await startServer({ maxConnections: 2 });
  t.teardown(() => server.close());
  const accepted: QuicConnection[] = [];
  server.on('connection', (connection: QuicConnection) => accepted.push(connection));
  const first = await connect(port);
  const second = await connect(port);
  t.equal(server.connectionCount, 2);
  const refused = await connect(port).then(
    () => null,
    (error: unknown) => error,
  );
  t.type(refused, QuicConnectionError, 'the third is refused');
  t.match((refused as QuicConnectionError).info, { isApp: false, code: 0x2, local: false });
  t.match((refused as Error).message, /CONNECTION_REFUSED/);
  t.equal(accepted.length, 2, "no 'connection' event for the refused one");
  t.equal(server.connectionCount, 2);

  // A slot frees up when a connection is gone.
  const gone = closed(accepted[0]!);
  first.close(0);
  await gone;
  t.equal(server.connectionCount, 1);
  const third = await connect(port);
  t.equal(server.connectionCount, 2, 'a new connection fits again');
  for (const c of [second, third]) c.close(0);
  await Promise.all([closed(second), closed(third)]);
});

t.test('version negotiation for an unknown version (RFC 9000 §6)', async (t) => {
  const { server, port } = await startServer();
  const socket = dgram.createSocket('udp4');
  t.teardown(async () => {
    socket.close();
    await server.close();
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const dcid = Buffer.from('0102030405060708', 'hex');
  const scid = Buffer.from('a1a2a3a4a5a6a7a8', 'hex');
  const packet = Buffer.alloc(1200);
  packet[0] = 0xc0;
  packet.writeUInt32BE(0x1a2a3a4a, 1); // a reserved (greased) version
  packet[5] = dcid.length;
  dcid.copy(packet, 6);
  packet[14] = scid.length;
  scid.copy(packet, 15);
  const reply = once(socket, 'message') as Promise<[Buffer]>;
  socket.send(packet, port, '127.0.0.1');
  const [vn] = await reply;
  t.ok((vn[0]! & 0x80) !== 0, 'long header');
  t.equal(vn.readUInt32BE(1), 0, 'version 0: Version Negotiation');
  t.same(vn.subarray(6, 6 + vn[5]!), scid, 'DCID echoes our SCID');
  const scidAt = 6 + vn[5]!;
  t.same(vn.subarray(scidAt + 1, scidAt + 1 + vn[scidAt]!), dcid, 'SCID echoes our DCID');
  const versions: number[] = [];
  for (let i = scidAt + 1 + vn[scidAt]!; i + 4 <= vn.length; i += 4) versions.push(vn.readUInt32BE(i));
  t.ok(versions.includes(1), `offers QUIC v1 (${versions.map((v) => v.toString(16)).join(', ')})`);
});

t.test('a server that lost the connection answers with a Stateless Reset (RFC 9000 §10.3)', async (t) => {
  const statelessResetKey = Buffer.alloc(32, 9);
  const a = await startServer({ statelessResetKey });
  const b = await startServer({ statelessResetKey }); // same key, no state: "after a restart"
  const proxy = await lossyProxy(a.port, 0, 0);
  t.teardown(async () => {
    await a.server.close();
    await b.server.close();
    await proxy.close();
  });
  a.server.on('connection', echo);
  const client = await connect(proxy.port);
  // One round trip first: the handshake is confirmed (HANDSHAKE_DONE), so the
  // client sends short-header packets only (RFC 9001 §4.9.2).
  const first = client.openStream(true);
  const back = readAll(first);
  first.write(Buffer.from('hello'));
  first.end();
  t.equal((await back).toString(), 'hello');
  const info = closed(client);
  proxy.setUpstream(b.port);
  const stream = client.openStream(true);
  stream.write(Buffer.from('anyone there?'));
  t.same(await info, { isApp: false, code: 0, reason: 'stateless reset', local: false, timedOut: false });
});

t.test('listen() twice and close() twice', async (t) => {
  const { server } = await startServer();
  await t.rejects(server.listen(0, '127.0.0.1'), /already listening/);
  await server.close();
  await server.close();
  t.pass('close() is idempotent');
});
