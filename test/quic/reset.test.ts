// RESET_STREAM and STOP_SENDING with an application code (H3_REQUEST_CANCELLED,
// 0x010c), each way, as 'reset' / 'stopSending' events at the peer.
import { once } from 'node:events';
import t from 'tap';
import type { QuicConnection, QuicStream } from '../../src/quic/index.js';
import { pair, shutdown } from './helpers.js';

const H3_REQUEST_CANCELLED = 0x010c;

function nextStream(connection: QuicConnection): Promise<QuicStream> {
  return new Promise((resolve) => connection.once('stream', resolve));
}

function event<T = number>(stream: QuicStream, name: string): Promise<T> {
  return once(stream, name).then(([value]) => value as T);
}

for (const initiator of ['client', 'server'] as const) {
  t.test(`${initiator} opens; reset(0x010c) arrives as 'reset' at the other side`, async (t) => {
    const p = await pair();
    t.teardown(() => shutdown(p));
    const [opener, other] = initiator === 'client' ? [p.client, p.peer] : [p.peer, p.client];
    const arriving = nextStream(other);
    const stream = opener.openStream(true);
    stream.write(Buffer.from('some data first'));
    const incoming = await arriving;
    const data: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => data.push(chunk));
    const reset = event(incoming, 'reset');
    const written = new Promise<Error | null | undefined>((resolve) => stream.write(Buffer.alloc(1 << 20), resolve));
    stream.reset(H3_REQUEST_CANCELLED);
    t.equal(await reset, H3_REQUEST_CANCELLED, `'reset' with 0x010c`);
    const error = await written;
    t.ok(error === null || error instanceof Error, 'the write callback was called');
    t.equal(stream.write(Buffer.from('late')), false, 'no writing after reset');
    // Both directions finish: the resetting side still reads, the other side ends.
    const closedHere = once(stream, 'close');
    const closedThere = once(incoming, 'close');
    incoming.end();
    await Promise.all([closedHere, closedThere]);
    t.pass("'close' on both sides once the other direction finished too");
  });

  t.test(`${initiator} opens; the other side's stopSending(0x010c) arrives as 'stopSending'`, async (t) => {
    const p = await pair();
    t.teardown(() => shutdown(p));
    const [opener, other] = initiator === 'client' ? [p.client, p.peer] : [p.peer, p.client];
    const arriving = nextStream(other);
    const stream = opener.openStream(true);
    stream.write(Buffer.from('hello'));
    const incoming = await arriving;
    // The opener's sending side is idle when STOP_SENDING arrives.
    const stopped = event(stream, 'stopSending');
    incoming.stopSending(H3_REQUEST_CANCELLED);
    t.equal(await stopped, H3_REQUEST_CANCELLED, `'stopSending' with 0x010c on an idle sender`);
    let callbackError: Error | null | undefined;
    t.equal(
      stream.write(Buffer.from('discarded'), (e) => (callbackError = e)),
      false,
      'write() after STOP_SENDING returns false',
    );
    await new Promise<void>((resolve) => setImmediate(resolve));
    await new Promise<void>((resolve) => setImmediate(resolve));
    t.type(callbackError, Error, 'and its callback gets an error');
    const closedHere = once(stream, 'close');
    const closedThere = once(incoming, 'close');
    incoming.end();
    stream.on('data', () => {});
    await Promise.all([closedHere, closedThere]);
    t.pass('both sides close');
  });
}

t.test("STOP_SENDING reaches a sender that is busy writing", async (t) => {
  const p = await pair({ maxStreamData: 64 * 1024 });
  t.teardown(() => shutdown(p));
  const arriving = nextStream(p.peer);
  const stream = p.client.openStream(true);
  const chunk = Buffer.alloc(64 * 1024, 1);
  let writing = true;
  const stopped = event(stream, 'stopSending');
  stopped.then(() => (writing = false));
  void (async () => {
    while (writing) if (!stream.write(chunk)) await Promise.race([once(stream, 'drain'), stopped]);
  })();
  const incoming = await arriving;
  incoming.on('data', () => {});
  incoming.stopSending(H3_REQUEST_CANCELLED);
  t.equal(await stopped, H3_REQUEST_CANCELLED);
  t.equal(stream.bufferedAmount, 0, 'the queue is dropped');
});

t.test('a reset before any data opens the stream at the peer with the code', async (t) => {
  const p = await pair();
  t.teardown(() => shutdown(p));
  // 'reset' follows 'stream' at once: listen from the 'stream' handler.
  const reset = new Promise<number>((resolve) =>
    p.peer.once('stream', (incoming: QuicStream) => incoming.once('reset', resolve)),
  );
  const stream = p.client.openStream(true);
  stream.reset(0x0101);
  t.equal(await reset, 0x0101);
});
