// Datagram sizes (RFC 9000 §14): peers on a loopback address get
// loopbackPacketSize, others maxPacketSize; neither is ever exceeded, and
// the 1200-byte floor and 65527 ceiling of max_udp_payload_size are enforced.
import t from 'tap';
import { isLoopbackAddress, resolveTransport } from '../../src/quic/config.js';
import { connect, echo, lossyProxy, pattern, readAll, sha256, startServer } from './helpers.js';

async function largestDatagramFromServer(options: { maxPacketSize?: number; loopbackPacketSize?: number }) {
  const { server, port } = await startServer(options);
  let largest = 0;
  const proxy = await lossyProxy(port, 0, 0, 1, (datagram) => {
    largest = Math.max(largest, datagram.length);
  });
  try {
    server.on('connection', echo);
    const client = await connect(proxy.port, options);
    const data = pattern(1024 * 1024, 5);
    const stream = client.openStream(true);
    const back = readAll(stream);
    stream.write(data);
    stream.end();
    const echoed = await back;
    client.close(0);
    return { largest, intact: sha256(echoed) === sha256(data) };
  } finally {
    await server.close();
    await proxy.close();
  }
}

t.test('a loopback peer gets datagrams up to loopbackPacketSize', async (t) => {
  const { largest, intact } = await largestDatagramFromServer({ loopbackPacketSize: 8000 });
  t.ok(intact, '1 MiB echoed intact');
  t.ok(largest > 1350, `datagrams above the Internet size were sent (largest ${largest})`);
  t.ok(largest <= 8000, `none above loopbackPacketSize (largest ${largest})`);
});

t.test('loopbackPacketSize equal to maxPacketSize keeps every datagram within it', async (t) => {
  const { largest, intact } = await largestDatagramFromServer({ maxPacketSize: 1350, loopbackPacketSize: 1350 });
  t.ok(intact, '1 MiB echoed intact');
  t.ok(largest <= 1350, `none above 1350 (largest ${largest})`);
  t.ok(largest >= 1200, `full-size packets were sent (largest ${largest})`);
});

t.test('loopback addresses', async (t) => {
  for (const address of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) t.ok(isLoopbackAddress(address), address);
  for (const address of ['10.0.0.1', '::2', '192.168.1.127', '::ffff:10.0.0.1', 'fe80::1']) t.notOk(isLoopbackAddress(address), address);
});

t.test('packet size options are validated', async (t) => {
  t.equal(resolveTransport({}).maxPacketSize, 1350);
  t.equal(resolveTransport({}).loopbackPacketSize, 16 * 1024);
  for (const name of ['maxPacketSize', 'loopbackPacketSize'] as const) {
    t.throws(() => resolveTransport({ [name]: 1199 }), RangeError, `${name} below 1200`);
    t.throws(() => resolveTransport({ [name]: 65528 }), RangeError, `${name} above 65527`);
    t.equal(resolveTransport({ [name]: 65527 })[name], 65527);
  }
});
