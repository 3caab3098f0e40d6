// Bytes in order over one bidirectional stream, FIN both ways, on IPv4 and IPv6 loopback.
import t from 'tap';
import { echo, pair, pattern, readAll, sha256, shutdown, writeAll } from './helpers.js';

for (const host of ['127.0.0.1', '::1']) {
  t.test(`echo on one bidirectional stream over ${host}`, async (t) => {
    const p = await pair({}, {}, host);
    t.teardown(() => shutdown(p));
    t.equal(p.client.alpn, 'h3');
    t.equal(p.peer.alpn, 'h3');
    t.equal(p.peer.serverName, 'localhost');
    t.equal(p.client.remoteAddress, host);
    t.equal(p.client.remotePort, p.port);
    t.equal(p.peer.remoteAddress, host);
    echo(p.peer);
    for (const size of [0, 1, 1000, 10 * 1024 * 1024]) {
      const data = pattern(size, size + 7);
      const stream = p.client.openStream(true);
      t.ok(stream.bidirectional && stream.local, 'a local bidirectional stream');
      const received = readAll(stream);
      const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
      await writeAll(stream, data);
      const back = await received;
      t.equal(back.length, size, `${size} bytes back`);
      t.equal(sha256(back), sha256(data), `${size} bytes intact`);
      await closed;
      t.pass(`stream closed after FIN both ways (${size} bytes)`);
    }
  });
}
