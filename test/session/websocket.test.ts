import pino from 'pino';
import t from 'tap';
import { kServerSession } from '../../src/session/internal.js';
import { resolveSessionLimits, type SessionLimits } from '../../src/session/options.js';
import { WebSocket } from '../../src/session/websocket.js';
import { CloseEvent, MessageEvent } from '../../src/session/events.js';
import { MemoryChannel } from './memory-channel.js';

const logger = pino({ level: 'silent' });

function once<T extends unknown[]>(emitter: WebSocket, event: string): Promise<T> {
  return new Promise((resolve) => emitter.once(event, (...args: unknown[]) => resolve(args as T)));
}

const allSessions: WebSocket[] = [];
t.teardown(() => allSessions.forEach((ws) => ws.terminate()));

/** A server session and a client session joined by an in-memory channel. */
function pair(limits: Partial<SessionLimits> = {}) {
  const [serverChannel, clientChannel] = MemoryChannel.pair();
  const common = { url: 'ws://test/', protocol: '', extensions: '', deflate: null, compressionThreshold: 0, limits: resolveSessionLimits(limits), logger };
  // The internal constructor builds a session from a channel, for either role.
  const server = new WebSocket(kServerSession, { ...common, role: 'server', channel: serverChannel });
  const client = new WebSocket(kServerSession, { ...common, role: 'client', channel: clientChannel });
  allSessions.push(server, client);
  return { server, client, serverChannel, clientChannel };
}

t.test('messages both ways, with types kept', async (t) => {
  const { server, client } = pair();
  t.equal(server.readyState, WebSocket.OPEN);
  const got = once<[Buffer, boolean]>(server, 'message');
  client.send('héllo');
  const [data, isBinary] = await got;
  t.equal(data.toString(), 'héllo');
  t.equal(isBinary, false);
  const back = once<[Buffer, boolean]>(client, 'message');
  server.send(new Uint8Array([1, 2, 3]));
  t.same(await back, [Buffer.from([1, 2, 3]), true]);
  const forced = once<[Buffer, boolean]>(server, 'message');
  client.send(Buffer.from('as text'), { binary: false });
  t.same(await forced, [Buffer.from('as text'), false]);
});

t.test('fragments sent with fin: false arrive as one message', async (t) => {
  const { server, client } = pair();
  const got = once<[Buffer, boolean]>(server, 'message');
  client.send('ab', { fin: false });
  client.send('cd', { fin: false });
  client.send('ef', { fin: true });
  t.same(await got, [Buffer.from('abcdef'), false]);
});

t.test('close handshake: both sides report the initiator\'s code and reason', async (t) => {
  const { server, client, serverChannel, clientChannel } = pair();
  const serverClosed = once<[number, string]>(server, 'close');
  const clientClosed = once<[number, string]>(client, 'close');
  client.close(4001, 'done here');
  t.equal(client.readyState, WebSocket.CLOSING);
  t.same(await serverClosed, [4001, 'done here']);
  t.same(await clientClosed, [4001, ''], 'the server echoed the code');
  t.ok(server.wasClean && client.wasClean);
  t.ok(serverChannel.ended && clientChannel.ended, 'both directions ended in order');
  t.notOk(serverChannel.aborted || clientChannel.aborted, 'nothing was aborted');
  t.equal(server.readyState, WebSocket.CLOSED);
  // The server's echo: 0x88 0x02 0x0f 0xa1 (unmasked, code 4001).
  t.same(serverChannel.written.at(-1), Buffer.from([0x88, 0x02, 0x0f, 0xa1]));
});

t.test('close without a code sends an empty close frame and reports 1005', async (t) => {
  const { server, client } = pair();
  const closed = once<[number, string]>(server, 'close');
  client.close();
  t.same(await closed, [1005, '']);
});

t.test('close timeout aborts a peer that never answers', async (t) => {
  const { server, client, clientChannel, serverChannel } = pair({ closeTimeout: 50 });
  clientChannel.stalled = true; // the client reads nothing any more
  const closed = once<[number, string]>(server, 'close');
  server.close(1000);
  t.same(await closed, [1006, ''], 'no close frame came back');
  t.ok(serverChannel.aborted);
  t.notOk(server.wasClean);
  client.terminate();
});

t.test('a protocol violation closes with its code and does not need an error listener', async (t) => {
  const { server, clientChannel, serverChannel } = pair();
  const closed = once<[number, string]>(server, 'close');
  // An unmasked text frame from a client: RFC 6455 §5.1 → 1002.
  serverChannel.events!.data(Buffer.from([0x81, 0x01, 0x41]));
  const sent = serverChannel.written.at(-1)!;
  t.same(sent.subarray(0, 4), Buffer.from([0x88, sent[1], 0x03, 0xea]), 'close frame with 1002');
  t.match(sent.subarray(4).toString(), /masked/, 'and a reason');
  clientChannel.end();
  t.same((await closed)[0], 1002);
});

t.test("errors reach 'error' listeners when there are some", async (t) => {
  const { server } = pair();
  const error = once<[Error & { closeCode: number }]>(server, 'error');
  // @ts-expect-error reaching into the channel on purpose
  server.channel.events.data(Buffer.from([0x81, 0x81, 0, 0, 0, 0, 0xff]));
  const [err] = await error;
  t.equal(err.closeCode, 1007);
});

t.test('ping is answered automatically with the same payload; pong events fire', async (t) => {
  const { server, client } = pair();
  const pong = once<[Buffer]>(client, 'pong');
  const ping = once<[Buffer]>(server, 'ping');
  client.ping('are you there');
  t.same(await ping, [Buffer.from('are you there')]);
  t.same(await pong, [Buffer.from('are you there')]);
  t.throws(() => client.ping(Buffer.alloc(126)), RangeError);
});

t.test('heartbeat: a silent peer is terminated, a live one is kept', async (t) => {
  const live = pair({ heartbeatInterval: 30 });
  let pongs = 0;
  live.server.on('pong', () => pongs++);
  await new Promise((resolve) => {
    const check = setInterval(() => {
      if (pongs >= 3) resolve(clearInterval(check));
    }, 10);
  });
  t.equal(live.server.readyState, WebSocket.OPEN, 'answered pings keep the session');
  live.server.terminate();
  const silent = pair({ heartbeatInterval: 30 });
  silent.serverChannel.stalled = true; // nothing reaches the server any more
  const [code] = await once<[number]>(silent.server, 'close');
  t.equal(code, 1006, 'silent peer terminated');
  silent.client.terminate();
});

t.test('backpressure: send() returns false, then drain', async (t) => {
  const { server, clientChannel } = pair();
  clientChannel.stalled = true;
  let result = true;
  let sent = 0;
  while (result && sent < 1000) {
    result = server.send(Buffer.alloc(1024));
    sent++;
  }
  t.equal(result, false, 'send reported backpressure');
  t.ok(server.bufferedAmount >= 16 * 1024, `bufferedAmount ${server.bufferedAmount}`);
  const drained = once(server, 'drain');
  clientChannel.unstall();
  await drained;
  t.equal(server.bufferedAmount, 0);
});

t.test('a peer that stops reading is cut off at maxBufferedAmount', async (t) => {
  const { server, clientChannel } = pair({ maxBufferedAmount: 64 * 1024 });
  clientChannel.stalled = true;
  const closed = once<[number, string]>(server, 'close');
  for (let i = 0; i < 100 && server.readyState === WebSocket.OPEN; i++) server.send(Buffer.alloc(1024));
  t.same(await closed, [1008, 'send buffer limit exceeded']);
});

t.test('pause() stops delivery and reading until resume()', async (t) => {
  const { server, client, serverChannel } = pair();
  const received: string[] = [];
  server.on('message', (data: Buffer) => {
    received.push(data.toString());
    if (received.length === 1) server.pause();
  });
  client.send('one');
  client.send('two');
  client.send('three');
  await new Promise((resolve) => setTimeout(resolve, 30));
  t.same(received, ['one'], 'nothing delivered while paused');
  t.ok(serverChannel.paused, 'the transport stopped reading');
  server.resume();
  await new Promise((resolve) => setTimeout(resolve, 30));
  t.same(received, ['one', 'two', 'three']);
});

t.test('WHATWG surface', async (t) => {
  const { server, client } = pair();
  const events: unknown[] = [];
  server.onmessage = (event) => events.push(event);
  const listener = (event: unknown): void => {
    events.push(event);
  };
  server.addEventListener('message', listener);
  server.addEventListener('message', listener); // ignored: already added
  server.binaryType = 'arraybuffer';
  const delivered = once(server, 'message');
  client.send(new Uint8Array([9, 8]));
  await delivered;
  t.equal(events.length, 2);
  const event = events[0] as MessageEvent;
  t.ok(event instanceof MessageEvent);
  t.ok(event.data instanceof ArrayBuffer);
  t.same([...new Uint8Array(event.data as ArrayBuffer)], [9, 8]);
  t.equal(event.target, server);
  server.removeEventListener('message', listener);
  server.onmessage = null;
  t.equal(server.onmessage, null);
  const text = once(server, 'message');
  let textEvent: MessageEvent | null = null;
  server.onmessage = (e) => (textEvent = e as MessageEvent);
  client.send('text arrives as a string');
  await text;
  t.equal(textEvent!.data, 'text arrives as a string');
  t.equal(events.length, 2, 'removed listeners are not called');
  server.binaryType = 'blob';
  const blob = once<[Blob]>(server, 'message');
  client.send(Buffer.from('blob'));
  t.equal(await (await blob)[0].text(), 'blob');
  const closeEvent = new Promise<CloseEvent>((resolve) => client.addEventListener('close', (e) => resolve(e as CloseEvent), { once: true }));
  server.close(1000, 'bye');
  const ce = await closeEvent;
  t.equal(ce.code, 1000);
  t.equal(ce.reason, 'bye');
  t.equal(ce.wasClean, true);
});

t.test('sending after close fails through the callback, not by throwing', async (t) => {
  const { server, client } = pair();
  client.close(1000);
  const error = await new Promise<Error | null | undefined>((resolve) => client.send('late', resolve));
  t.match(error?.message, /not open/);
  t.equal(client.send('late'), false);
  await once(server, 'close');
});

t.test('invalid close arguments throw', async (t) => {
  const { server } = pair();
  t.throws(() => server.close(1005 + 1), TypeError, '1006 cannot be sent');
  t.throws(() => server.close(1000, 'x'.repeat(124)), TypeError);
  server.terminate();
});

t.test('EventTarget: a once listener can be removed; the same listener is added once, whatever the options', async (t) => {
  const { server, client } = pair();
  let onceCalls = 0;
  const onceListener = (): void => {
    onceCalls++;
  };
  server.addEventListener('message', onceListener, { once: true });
  server.removeEventListener('message', onceListener);
  let twiceCalls = 0;
  const twice = (): void => {
    twiceCalls++;
  };
  server.addEventListener('message', twice);
  server.addEventListener('message', twice, { once: true });
  server.addEventListener('message', twice);
  // A Node listener for the same function is a different thing and stays separate.
  let nodeCalls = 0;
  const nodeListener = (): void => {
    nodeCalls++;
  };
  server.on('message', nodeListener);
  server.addEventListener('message', nodeListener);
  const two = new Promise<void>((resolve) => {
    let n = 0;
    server.on('message', () => ++n === 2 && resolve());
  });
  client.send('one');
  client.send('two');
  await two;
  t.equal(onceCalls, 0, 'the removed once listener never ran');
  t.equal(twiceCalls, 2, 'added three times, runs once per event');
  t.equal(nodeCalls, 4, 'the Node listener and the DOM listener both run');
  let fired = 0;
  server.addEventListener('message', () => fired++, { once: true });
  const more = new Promise<void>((resolve) => {
    let n = 0;
    server.on('message', () => ++n === 2 && resolve());
  });
  client.send('three');
  client.send('four');
  await more;
  t.equal(fired, 1, 'a once listener runs once');
});
