import { once } from 'node:events';
import t from 'tap';
import { MemoryQuicConnection, type MemoryQuicStream, settle } from './memory-quic.js';

t.test('stream ids by initiator and direction (RFC 9000 §2.1)', async (t) => {
  const [c, s] = MemoryQuicConnection.pair();
  t.same([c.openStream(true).id, c.openStream(true).id, c.openStream(false).id, c.openStream(false).id], [0, 4, 2, 6]);
  t.same([s.openStream(true).id, s.openStream(false).id, s.openStream(true).id], [1, 3, 5]);
  c.close(0);
  await c.whenClosed();
});

t.test('the peer learns of a stream on its first data; bytes in order, then FIN; events never synchronous', async (t) => {
  const [c, s] = MemoryQuicConnection.pair();
  const stream = c.openStream(true);
  const events: string[] = [];
  s.on('stream', (peer: MemoryQuicStream) => {
    events.push(`stream ${peer.id} local=${peer.local} bidi=${peer.bidirectional}`);
    peer.on('data', (chunk: Buffer) => events.push(`data ${chunk}`));
    peer.on('end', () => events.push('end'));
  });
  stream.write(Buffer.from('a'));
  stream.write(Buffer.from('b'));
  stream.end();
  t.same(events, [], 'nothing happens inside the calls');
  await settle();
  t.same(events, ['stream 0 local=false bidi=true', 'data a', 'data b', 'end']);
  c.close(0);
});

t.test('a stream that only ends is announced too', async (t) => {
  const [c, s] = MemoryQuicConnection.pair();
  c.openStream(false).end();
  const ended = new Promise<number>((resolve) => s.on('stream', (stream: MemoryQuicStream) => stream.on('end', () => resolve(stream.id))));
  t.equal(await ended, 2);
  c.close(0);
});

t.test('reset drops queued data and delivers the code; both ends close', async (t) => {
  const [c, s] = MemoryQuicConnection.pair();
  const stream = c.openStream(false);
  stream.write(Buffer.from('never delivered'));
  stream.reset(0x10c);
  const [peer] = (await once(s, 'stream')) as [MemoryQuicStream];
  const events: string[] = [];
  peer.on('data', () => events.push('data'));
  peer.on('reset', (code: number) => events.push(`reset ${code}`));
  peer.on('close', () => events.push('close'));
  await settle();
  t.same(events, [], 'already delivered before listeners (announced with the reset)');
  t.same(peer.receivedResets, [0x10c]);
  t.ok(peer.closed && stream.closed);
  c.close(0);
});

t.test('STOP_SENDING: the sender hears the code, later writes are discarded, and it resets with the same code', async (t) => {
  const [c, s] = MemoryQuicConnection.pair();
  const stream = c.openStream(true);
  stream.write(Buffer.from('x'));
  const [peer] = (await once(s, 'stream')) as [MemoryQuicStream];
  peer.stopSending(0x100);
  const [code] = (await once(stream, 'stopSending')) as [number];
  t.equal(code, 0x100);
  t.ok(stream.write(Buffer.from('discarded')));
  await settle();
  t.same(peer.receivedResets, [0x100], 'RESET_STREAM with the STOP_SENDING code (RFC 9000 §3.5)');
  c.close(0);
});

t.test('pause: bytes wait in the sender, write() returns false at the high-water mark, drain after resume', async (t) => {
  const [c, s] = MemoryQuicConnection.pair({ highWaterMark: 100 });
  const stream = c.openStream(true);
  stream.write(Buffer.from('hi'));
  const [peer] = (await once(s, 'stream')) as [MemoryQuicStream];
  let received = 0;
  peer.on('data', (chunk: Buffer) => (received += chunk.length));
  peer.pause();
  t.equal(stream.write(Buffer.alloc(60)), true);
  t.equal(stream.write(Buffer.alloc(60)), false, 'at 120 ≥ 100');
  await settle();
  t.equal(stream.bufferedAmount, 120, 'nothing taken while paused');
  t.equal(received, 0);
  const drained = once(stream, 'drain');
  peer.resume();
  await drained;
  t.equal(stream.bufferedAmount, 0);
  t.equal(received, 120);
  c.close(0);
});

t.test('FIN waits for a paused receiver too', async (t) => {
  const [c, s] = MemoryQuicConnection.pair();
  const stream = c.openStream(false);
  stream.write(Buffer.from('x'));
  const [peer] = (await once(s, 'stream')) as [MemoryQuicStream];
  peer.pause();
  stream.write(Buffer.from('y'));
  stream.end();
  let ended = false;
  peer.on('end', () => (ended = true));
  await settle();
  t.notOk(ended);
  peer.resume();
  await settle();
  t.ok(ended);
  c.close(0);
});

t.test('stream limit: openStream throws, a closed stream frees a slot', async (t) => {
  const [c, s] = MemoryQuicConnection.pair({ maxStreamsBidi: 1 });
  const first = c.openStream(true);
  t.throws(() => c.openStream(true), /limit/);
  first.end();
  const [peer] = (await once(s, 'stream')) as [MemoryQuicStream];
  peer.end();
  await once(first, 'close');
  t.equal(c.openStream(true).id, 4);
  c.close(0);
});

t.test('connection close: every stream closes first, then both connections, with the code and reason', async (t) => {
  const [c, s] = MemoryQuicConnection.pair();
  const stream = c.openStream(true);
  stream.write(Buffer.from('x'));
  const [peer] = (await once(s, 'stream')) as [MemoryQuicStream];
  const order: string[] = [];
  stream.on('close', () => order.push('client stream'));
  peer.on('close', () => order.push('server stream'));
  c.on('close', () => order.push('client'));
  s.on('close', () => order.push('server'));
  c.close(0x10b, 'going');
  const info = await s.whenClosed();
  t.same(order, ['client stream', 'server stream', 'client', 'server']);
  t.same(info, { isApp: true, code: 0x10b, reason: 'going', local: false, timedOut: false });
  t.equal(c.closeInfo?.local, true);
  t.throws(() => c.openStream(true));
  t.equal(stream.write(Buffer.from('late')), false);
});
