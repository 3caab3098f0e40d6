import { once } from 'node:events';
import t from 'tap';
import {
  H3_EXCESSIVE_LOAD,
  H3_NO_ERROR,
  H3_REQUEST_CANCELLED,
  H3_REQUEST_REJECTED,
  Http3Error,
} from '../../src/http3/errors.js';
import { encodeGoawayFrame, encodeHeadersFrame } from '../../src/http3/frames.js';
import { encodeFieldSection } from '../../src/http3/qpack/encoder.js';
import type { HeaderList } from '../../src/http3/fields.js';
import type { Http3RequestStream } from '../../src/http3/request-stream.js';
import { MAX_GOAWAY_STREAM_ID } from '../../src/http3/session.js';
import {
  GET,
  controlStream,
  echo,
  nextRequest,
  post,
  rawClient,
  rawRequest,
  rawServer,
  record,
  sessions,
  settle,
} from './helpers.js';
import type { MemoryQuicStream } from './memory-quic.js';

t.test('reset codes pass through: a client cancels with H3_REQUEST_CANCELLED (0x010c)', async (t) => {
  const { client, server } = sessions();
  const got = nextRequest(server);
  const request = client.request(post());
  request.write('partial');
  const [, , { seen: serverSeen, closed: serverClosed }] = await got;
  request.cancel();
  await serverClosed;
  t.same(serverSeen.resets, [0x010c], "the server's 'reset' carries 0x010c");
  t.same(serverSeen.stops, [0x010c], "and its 'stopSending' too");
  t.equal(H3_REQUEST_CANCELLED, 0x010c);
  client.close();
});

t.test('reset codes pass through: server reset and STOP_SENDING reach the client', async (t) => {
  const { client, server } = sessions();
  server.on('request', (stream: Http3RequestStream) => {
    stream.respond([[':status', '200']]);
    stream.write('some');
    stream.stopSending(H3_NO_ERROR);
    stream.reset(0x1234);
  });
  const request = client.request(post());
  const { seen, closed } = record(request);
  request.write('body');
  await closed;
  t.same(seen.stops, [H3_NO_ERROR], "'stopSending' with the server's code");
  t.same(seen.resets, [0x1234], "'reset' with the server's code, even one we do not know");
  t.notOk(seen.ended);
  t.ok(request.closed);
  client.close();
});

t.test('writes after the peer’s STOP_SENDING are dropped quietly', async (t) => {
  const { client, server } = sessions();
  server.on('request', (stream: Http3RequestStream) => stream.stopSending(H3_NO_ERROR));
  const request = client.request(post());
  const { seen } = record(request);
  request.write('x');
  await once(request, 'stopSending');
  t.notOk(request.writable);
  const result = await new Promise<Error | null | undefined>((resolve) => request.write('more', resolve));
  t.ok(result instanceof Error, 'the callback learns the bytes went nowhere');
  t.same(seen.stops, [H3_NO_ERROR]);
  client.close();
});

t.test('a request cancelled before it was sent', async (t) => {
  const { client, server } = sessions({ server: { enableConnectProtocol: true } });
  let requests = 0;
  server.on('request', () => requests++);
  const request = client.request([[':method', 'CONNECT'], [':protocol', 'websocket'], [':scheme', 'https'], [':authority', 'x'], [':path', '/']]);
  const { seen, closed } = record(request);
  request.cancel();
  await closed;
  t.same(seen.errors.map((e) => e.code), [H3_REQUEST_CANCELLED]);
  await settle();
  t.equal(requests, 0);
  client.close();
});

t.test('server GOAWAY (§5.2)', async (t) => {
  const { client, server, s } = sessions();
  echo(server);
  for (let i = 0; i < 2; i++) await record(client.request(GET, { endStream: true })).closed;
  const goaway = once(client, 'goaway');
  server.goaway();
  t.same(await goaway, [8], 'the first unprocessed request stream: 4 + 4');
  t.equal(client.goawayReceived, 8);
  t.equal(server.goawaySent, 8);
  t.throws(() => client.request(GET), /GOAWAY/, 'no new requests after GOAWAY');
  const frames = (s.allStreams.get(3) as MemoryQuicStream).writtenBytes;
  t.ok(frames.subarray(frames.length - 3).equals(encodeGoawayFrame(8)), 'GOAWAY(8) on our control stream');
  client.close();
});

t.test('a server refuses requests at or above its GOAWAY id with H3_REQUEST_REJECTED', async (t) => {
  const { c, s, server } = rawClient();
  echo(server);
  controlStream(c);
  const first = rawRequest(c, GET);
  await settle();
  server.goaway();
  const later = rawRequest(c, GET);
  await settle(10);
  const side = s.allStreams.get(later.id) as MemoryQuicStream;
  t.equal(later.id, 4);
  t.same(side.sentResets, [H3_REQUEST_REJECTED]);
  t.same(side.sentStopSending, [H3_REQUEST_REJECTED]);
  t.equal(server.goawaySent, 4);
  t.ok(first.receivedResets.length === 0, 'the earlier request was answered normally');
  c.close(0x100);
});

t.test('two-step shutdown: the maximum id first, then the real one; ids never go up', async (t) => {
  const { client, server } = sessions();
  echo(server);
  const ids: number[] = [];
  client.on('goaway', (id: number) => ids.push(id));
  server.goaway(MAX_GOAWAY_STREAM_ID);
  await settle();
  t.throws(() => client.request(GET), /GOAWAY/);
  server.goaway();
  server.goaway(400);
  await settle();
  t.same(ids, [Number(MAX_GOAWAY_STREAM_ID), 0, 0], '2^62-4, then 0, then 0 again (never raised)');
  t.throws(() => server.goaway(3), RangeError, 'a server GOAWAY carries a client bidirectional stream id');
  client.close();
});

t.test('client: requests at or above a received GOAWAY id are cancelled and reported rejected', async (t) => {
  const { c, s, client } = rawServer();
  const control = controlStream(s);
  const early = client.request(GET, { endStream: true });
  const late = client.request(post());
  const earlySeen = record(early);
  const lateSeen = record(late);
  await settle();
  control.write(encodeGoawayFrame(4));
  await lateSeen.closed;
  t.same(lateSeen.seen.errors.map((e) => e.code), [H3_REQUEST_REJECTED], 'the caller learns it was rejected (retry elsewhere)');
  const clientSide = c.allStreams.get(4) as MemoryQuicStream;
  t.same(clientSide.sentResets, [H3_REQUEST_CANCELLED], 'on the wire a client cancels (§4.1.1: it MUST NOT use H3_REQUEST_REJECTED)');
  t.same(clientSide.sentStopSending, [H3_REQUEST_CANCELLED]);
  t.same(earlySeen.seen.errors, [], 'request 0 is below the GOAWAY id: untouched');
  t.notOk(early.closed);
  c.close(0x100);
});

t.test('client: GOAWAY while requests wait for a stream rejects them unsent', async (t) => {
  const { c, s, client } = rawServer({}, { maxStreamsBidi: 1 });
  const control = controlStream(s);
  client.request(GET);
  const waiting = client.request(GET, { endStream: true });
  t.equal(waiting.id, null, 'waiting for a stream slot');
  const { seen, closed } = record(waiting);
  await settle();
  control.write(encodeGoawayFrame(4));
  await closed;
  t.same(seen.errors.map((e) => e.code), [H3_REQUEST_REJECTED]);
  t.equal(waiting.id, null, 'never sent');
  c.close(0x100);
});

t.test('client GOAWAY (push id) reaches the server; no new requests from us afterwards', async (t) => {
  const { client, server } = sessions();
  const goaway = once(server, 'goaway');
  client.goaway();
  t.same(await goaway, [0], 'push id 0: we accept no pushes');
  t.equal(server.goawayReceived, 0);
  t.throws(() => client.request(GET), /shutting down/);
  client.close();
});

t.test('many concurrent requests', async (t) => {
  const { client, server } = sessions({ server: { maxConcurrentRequests: 1000 } });
  echo(server);
  const count = 300;
  const results = await Promise.all(
    Array.from({ length: count }, (_, i) => {
      const request = client.request(post(`/n/${i}`));
      const { closed } = record(request);
      request.write(`body ${i}`);
      request.end();
      return closed.then((seen) => ({ i, id: request.id, seen }));
    }),
  );
  t.equal(results.filter(({ i, seen }) => seen.body === `body ${i}` && seen.ended && seen.response?.[0]?.[1] === '200').length, count, `${count} echoes`);
  t.same(
    results.map(({ id }) => id),
    Array.from({ length: count }, (_, i) => i * 4),
    'stream ids 0, 4, 8 … in order',
  );
  t.equal(client.activeRequests, 0);
  t.equal(server.activeRequests, 0);
  client.close();
});

t.test('more requests than the peer’s stream limit wait for a slot', async (t) => {
  const { client, server } = sessions({ quic: { maxStreamsBidi: 4 } });
  echo(server);
  const requests = Array.from({ length: 20 }, (_, i) => {
    const request = client.request(post());
    request.write(`#${i}`);
    request.end();
    return record(request).closed;
  });
  const seen = await Promise.all(requests);
  t.same(seen.map((s) => s.body), Array.from({ length: 20 }, (_, i) => `#${i}`), 'all sent, in order, with what was written while waiting');
  client.close();
});

t.test('the server refuses requests beyond maxConcurrentRequests with H3_REQUEST_REJECTED', async (t) => {
  const { c, s, server } = rawClient({ maxConcurrentRequests: 2 });
  const held: Http3RequestStream[] = [];
  const problems: number[] = [];
  server.on('request', (stream: Http3RequestStream) => held.push(stream));
  server.on('streamError', (error: Http3Error) => problems.push(error.code));
  controlStream(c);
  const streams = [rawRequest(c, GET), rawRequest(c, GET), rawRequest(c, GET)];
  await settle(10);
  t.equal(held.length, 2);
  t.equal(server.activeRequests, 2);
  const third = s.allStreams.get((streams[2] as MemoryQuicStream).id) as MemoryQuicStream;
  t.same(third.sentResets, [H3_REQUEST_REJECTED]);
  t.same(third.sentStopSending, [H3_REQUEST_REJECTED]);
  t.same(problems, [H3_REQUEST_REJECTED]);
  for (const stream of held) stream.respond([[':status', '200']], { endStream: true });
  await settle(10);
  t.equal(server.activeRequests, 0, 'slots free again');
  rawRequest(c, GET);
  await settle(10);
  t.equal(held.length, 3, 'a new request is accepted');
  c.close(0x100);
});

t.test('close(): both sides see it; streams close first; waiting requests fail', async (t) => {
  const { c, s, client, server } = sessions({ quic: { maxStreamsBidi: 1 } });
  const got = nextRequest(server);
  const open = client.request(post());
  const openSeen = record(open);
  const waiting = client.request(GET, { endStream: true });
  const waitingSeen = record(waiting);
  const [, , serverRecord] = await got;
  const order: string[] = [];
  open.on('close', () => order.push('stream'));
  client.on('close', () => order.push('session'));
  const serverClose = once(server, 'close');
  client.close(H3_NO_ERROR, 'bye');
  const [info] = (await serverClose) as [{ code: number; reason: string; local: boolean }];
  t.equal(info.code, H3_NO_ERROR);
  t.equal(info.reason, 'bye');
  t.equal(info.local, false);
  await settle();
  t.same(order, ['stream', 'session'], "every stream's 'close' before the session's");
  t.ok(openSeen.seen.closed && serverRecord.seen.closed);
  t.same(waitingSeen.seen.errors.map((e) => e.code), [H3_NO_ERROR], 'the unsent request fails with the close code');
  t.ok(client.closed && server.closed);
  t.equal(client.closeReason?.local, true);
  t.throws(() => client.request(GET), /closed/);
  client.close(); // idempotent
  t.ok(c.isClosed && s.isClosed);
});

t.test('pause/resume: the transport stops reading, the writer sees backpressure and then drain', async (t) => {
  const { client, server } = sessions({ quic: { highWaterMark: 8 * 1024 } });
  const got = nextRequest(server);
  const request = client.request(post());
  request.write('hello');
  const [stream, , { seen }] = await got;
  stream.pause();
  t.ok(stream.paused);
  let writes = 0;
  while (request.write(Buffer.alloc(1024, 0x61))) writes++;
  t.ok(request.bufferedAmount >= 8 * 1024, `bufferedAmount ${request.bufferedAmount} at the high-water mark`);
  const before = seen.chunks.length;
  await settle(10);
  t.equal(seen.chunks.length, before, 'nothing delivered while paused');
  const drained = once(request, 'drain');
  stream.resume();
  await drained;
  t.pass("'drain' after resume");
  request.end();
  await new Promise((resolve) => stream.once('end', resolve));
  t.equal(seen.body.length, 5 + (writes + 1) * 1024, 'every byte arrived');
  client.close();
});

t.test('pause inside a data handler holds back the rest of the same packet', async (t) => {
  const { c, server } = rawClient();
  controlStream(c);
  const events: string[] = [];
  let held: Http3RequestStream | null = null;
  server.on('request', (stream: Http3RequestStream) => {
    held = stream;
    stream.on('data', (chunk: Buffer) => {
      events.push(chunk.toString());
      stream.pause();
    });
    stream.on('end', () => events.push('end'));
  });
  const frames = ['a', 'b', 'c'].map((x) => Buffer.concat([Buffer.from([0x00, 0x01]), Buffer.from(x)]));
  rawRequest(c, post(), { more: frames });
  await settle();
  t.same(events, ['a']);
  (held as unknown as Http3RequestStream).resume();
  await settle();
  t.same(events, ['a', 'b']);
  (held as unknown as Http3RequestStream).resume();
  await settle();
  (held as unknown as Http3RequestStream).resume();
  await settle();
  t.same(events, ['a', 'b', 'c', 'end'], "'end' only after the held bytes");
  c.close(0x100);
});

t.test('without STOP_SENDING auto-reset in the transport, everything still closes', async (t) => {
  const { client, server } = sessions({ quic: { resetOnStopSending: false } });
  server.on('request', (stream: Http3RequestStream) => {
    stream.respond([[':status', '200']]);
    stream.stopSending(H3_NO_ERROR);
    stream.end();
  });
  const request = client.request(post());
  const { seen, closed } = record(request);
  await once(request, 'stopSending');
  request.reset(H3_NO_ERROR); // what a transport would do for us per RFC 9000 §3.5
  await closed;
  t.same(seen.stops, [H3_NO_ERROR]);
  t.equal(seen.response?.[0]?.[1], '200');
  client.close();
});

t.test("an 'error' nobody listens to does not throw", async (t) => {
  const { c, s, client } = rawServer({ maxFieldSectionSize: 100 });
  controlStream(s);
  const request = client.request(GET, { endStream: true });
  const closed = new Promise((resolve) => request.once('close', resolve));
  request.on('response', (headers: HeaderList) => t.fail(`unexpected response ${JSON.stringify(headers)}`));
  const side = await s.waitForStream(0);
  side.write(encodeHeadersFrame(encodeFieldSection([[':status', '200'], ['x', 'y'.repeat(100)]])));
  await closed;
  t.pass('closed without an unhandled error');
  t.same((c.allStreams.get(0) as MemoryQuicStream).sentStopSending, [H3_EXCESSIVE_LOAD]);
  c.close(0x100);
});
