import { once } from 'node:events';
import t from 'tap';
import {
  H3_EXCESSIVE_LOAD,
  H3_FRAME_ERROR,
  H3_FRAME_UNEXPECTED,
  H3_ID_ERROR,
  H3_MESSAGE_ERROR,
  H3_NO_ERROR,
  H3_REQUEST_INCOMPLETE,
  H3_VERSION_FALLBACK,
  QPACK_DECOMPRESSION_FAILED,
} from '../../src/http3/errors.js';
import type { HeaderList } from '../../src/http3/fields.js';
import {
  FrameParser,
  encodeCancelPushFrame,
  encodeFrame,
  encodeFrameHeader,
  encodeGoawayFrame,
  encodeHeadersFrame,
  encodeMaxPushIdFrame,
  encodePushPromiseFrame,
  encodeSettingsFrame,
} from '../../src/http3/frames.js';
import { decodeFieldSection } from '../../src/http3/qpack/decoder.js';
import { encodeFieldSection } from '../../src/http3/qpack/encoder.js';
import type { Http3RequestStream } from '../../src/http3/request-stream.js';
import {
  GET,
  WEBSOCKET,
  controlStream,
  data,
  echo,
  expectConnectionClosed,
  nextRequest,
  post,
  rawClient,
  rawRequest,
  rawServer,
  record,
  sessions,
  settle,
} from './helpers.js';
import type { MemoryQuicConnection, MemoryQuicStream } from './memory-quic.js';

/** The server side of a hand-made request stream, once it has closed. */
async function serverSide(s: MemoryQuicConnection, id: number): Promise<MemoryQuicStream> {
  await settle(10);
  return s.allStreams.get(id) as MemoryQuicStream;
}

/** What the server sent back on a hand-made request: its header sections and DATA. */
function responseOf(stream: MemoryQuicStream): { headers: HeaderList[]; body: string } {
  const headers: HeaderList[] = [];
  let body = '';
  const parser = new FrameParser(
    {
      data: (chunk) => (body += chunk.toString()),
      frame: (frame) => {
        if (frame.kind === 'headers') headers.push(decodeFieldSection(frame.block) as HeaderList);
      },
    },
    { maxFieldSectionFrameSize: 1 << 20 },
  );
  for (const chunk of stream.written) parser.push(chunk);
  return { headers, body };
}

t.test('GET round trip', async (t) => {
  const { client, server, c } = sessions();
  const got = nextRequest(server);
  const request = client.request(GET, { endStream: true });
  t.equal(request.id, 0, 'the first request is on stream 0 (§6.1)');
  const { closed } = record(request);
  const [stream, headers, recorded] = await got;
  t.same(headers, GET, 'the server sees the request header section as sent');
  t.same(stream.headers, GET);
  t.equal(stream.method, 'GET');
  t.equal(stream.id, 0);
  t.ok(recorded.seen.ended, "the server's 'end' (FIN with the HEADERS)");
  stream.respond([[':status', '200'], ['content-type', 'text/plain']]);
  stream.write('hello ');
  stream.write(Buffer.from('world'));
  stream.end();
  const seen = await closed;
  t.same(seen.response, [[':status', '200'], ['content-type', 'text/plain']]);
  t.same(request.responseHeaders, seen.response);
  t.equal(seen.body, 'hello world');
  t.ok(seen.ended, "'end'");
  t.same(seen.errors, []);
  t.equal(server.activeRequests, 0, 'the server forgot the stream');
  t.equal(client.activeRequests, 0, 'so did the client');
  client.close();
  await c.whenClosed();
});

t.test('HEADERS + DATA + FIN round trip, both ways', async (t) => {
  const { client, server } = sessions();
  echo(server);
  const request = client.request(post());
  const { closed } = record(request);
  request.write('one,');
  request.write(Buffer.from('two,'));
  request.write(new Uint8Array([0x74, 0x68, 0x72, 0x65, 0x65]));
  request.end();
  const seen = await closed;
  t.equal(seen.response?.[0]?.[1], '200');
  t.equal(seen.body, 'one,two,three');
  t.ok(seen.ended);
  client.close();
});

t.test('a large body streams through in pieces, header and payload written separately', async (t) => {
  const { client, server, c } = sessions({ quic: { highWaterMark: 64 * 1024 } });
  const received: Buffer[] = [];
  let pieces = 0;
  server.on('request', (stream: Http3RequestStream) => {
    stream.on('data', (chunk: Buffer) => {
      pieces++;
      received.push(chunk);
    });
    stream.on('end', () => {
      stream.respond([[':status', '204']], { endStream: true });
    });
  });
  const request = client.request(post());
  const { closed } = record(request);
  const payload = Buffer.alloc(1 << 20);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 0xff;
  const chunk = 100_000;
  for (let offset = 0; offset < payload.length; offset += chunk) {
    if (!request.write(payload.subarray(offset, offset + chunk))) await once(request, 'drain');
  }
  request.end();
  const seen = await closed;
  t.equal(seen.response?.[0]?.[1], '204');
  t.ok(Buffer.concat(received).equals(payload), 'a megabyte arrives intact');
  t.ok(pieces >= 11, `delivered as it arrived (${pieces} pieces)`);
  const quic = c.allStreams.get(0) as MemoryQuicStream;
  t.ok(quic.written.some((w) => w.length === chunk), 'a large payload is its own write: no copy behind the frame header');
  t.ok(quic.written.some((w) => w.length === 5 && w[0] === 0x00), 'its DATA frame header went first, alone');
  client.close();
});

t.test('small writes are merged with their frame header', async (t) => {
  const { client, server, c } = sessions();
  echo(server);
  const request = client.request(post());
  const { closed } = record(request);
  request.write('tiny');
  request.end();
  await closed;
  const quic = c.allStreams.get(0) as MemoryQuicStream;
  t.ok(quic.written.some((w) => w.equals(data('tiny'))), 'one write: 00 04 "tiny"');
  client.close();
});

t.test('extended CONNECT (RFC 9220): waits for SETTINGS, :protocol reaches the server, a tunnel both ways', async (t) => {
  const { client, server } = sessions({ server: { enableConnectProtocol: true } });
  const got = nextRequest(server);
  const request = client.request(WEBSOCKET);
  t.equal(request.id, null, 'not sent before the server’s SETTINGS arrive');
  t.equal(client.peerSettings, null);
  const { seen, closed } = record(request);
  request.write('client hello');
  const [stream, headers, recorded] = await got;
  t.ok(client.peerSettings?.enableConnectProtocol, 'sent after SETTINGS');
  t.same(headers, WEBSOCKET, ':protocol websocket is exposed as sent');
  stream.respond([[':status', '200'], ['sec-websocket-protocol', 'chat']]);
  const fromClient: Buffer[] = [...recorded.seen.chunks];
  stream.write(Buffer.concat([Buffer.from('echo:'), ...recorded.seen.chunks]));
  stream.on('data', (chunk: Buffer) => {
    fromClient.push(chunk);
    stream.write(Buffer.concat([Buffer.from('echo:'), chunk]));
  });
  await once(request, 'response');
  t.equal(seen.response?.[0]?.[1], '200');
  request.write('second');
  await settle(10);
  t.equal(Buffer.concat(fromClient).toString(), 'client hellosecond');
  t.equal(seen.body, 'echo:client helloecho:second');
  request.end();
  await settle(10);
  t.ok(recorded.seen.ended, "the server's 'end'");
  stream.end();
  await closed;
  t.ok(seen.ended);
  client.close();
});

t.test('extended CONNECT to a server that did not enable it fails with H3_VERSION_FALLBACK, unsent', async (t) => {
  const { client, server, s } = sessions();
  let requests = 0;
  server.on('request', () => requests++);
  const request = client.request(WEBSOCKET);
  const { seen, closed } = record(request);
  await closed;
  t.same(seen.errors.map((e) => e.code), [H3_VERSION_FALLBACK]);
  t.equal(request.id, null, 'never opened a stream');
  await settle();
  t.equal(requests, 0);
  t.equal([...s.allStreams.values()].filter((q) => q.bidirectional).length, 0);
  const plain = record(client.request(GET, { endStream: true }));
  echo(server);
  t.equal((await plain.closed).response?.[0]?.[1], '200', 'other requests are unaffected');
  client.close();
});

t.test(':protocol at a server that did not enable it is malformed (H3_MESSAGE_ERROR)', async (t) => {
  const { c, s, server } = rawClient();
  let requests = 0;
  server.on('request', () => requests++);
  controlStream(c);
  const stream = rawRequest(c, WEBSOCKET, { fin: false });
  const side = await serverSide(s, stream.id);
  t.same(side.sentResets, [H3_MESSAGE_ERROR]);
  t.same(side.sentStopSending, [H3_MESSAGE_ERROR]);
  t.equal(requests, 0);
  c.close(0x100);
});

t.test('malformed requests → stream error H3_MESSAGE_ERROR (§4.1.2, §4.2, §4.3)', async (t) => {
  const base: HeaderList = [[':method', 'GET'], [':scheme', 'https'], [':authority', 'example.com'], [':path', '/']];
  const cases: Array<[string, HeaderList]> = [
    ['an upper-case field name', [...base, ['X-Upper', '1']]],
    ['an upper-case pseudo-header name', [[':Method', 'GET'], ...base.slice(1)]],
    ['connection', [...base, ['connection', 'keep-alive']]],
    ['keep-alive', [...base, ['keep-alive', 'timeout=5']]],
    ['proxy-connection', [...base, ['proxy-connection', 'close']]],
    ['transfer-encoding', [...base, ['transfer-encoding', 'chunked']]],
    ['upgrade', [...base, ['upgrade', 'websocket']]],
    ['TE other than trailers', [...base, ['te', 'gzip']]],
    ['an unknown pseudo-header', [...base, [':foo', 'bar']]],
    ['a response pseudo-header in a request', [[':status', '200'], ...base]],
    ['a pseudo-header after a regular field', [[':method', 'GET'], ['accept', '*/*'], [':path', '/'], [':scheme', 'https']]],
    ['a duplicate :method', [...base.slice(0, 1), [':method', 'POST'], ...base.slice(1)]],
    ['a duplicate :path', [...base, [':path', '/again']]],
    ['no :method', base.slice(1)],
    ['an empty :path with https', [[':method', 'GET'], [':scheme', 'https'], [':authority', 'x'], [':path', '']]],
    ['a NUL in a value', [...base, ['x-a', 'a\0b']]],
    ['a CR in a value', [...base, ['x-a', 'a\rb']]],
    ['an LF in a value', [...base, ['x-a', 'a\nb']]],
    ['leading whitespace in a value', [...base, ['x-a', ' a']]],
    ['trailing whitespace in a value', [...base, ['x-a', 'a\t']]],
    ['a space in a name', [...base, ['x a', '1']]],
    ['an empty name', [...base, ['', '1']]],
    ['a colon inside a name', [...base, ['x:a', '1']]],
    ['a conflicting content-length', [...base, ['content-length', '1'], ['content-length', '2']]],
    ['an invalid content-length', [...base, ['content-length', '-1']]],
  ];
  const { c, s, server } = rawClient();
  const requests: HeaderList[] = [];
  server.on('request', (_stream: Http3RequestStream, headers: HeaderList) => requests.push(headers));
  controlStream(c);
  const streams = cases.map(([, headers]) => rawRequest(c, encodeFieldSection(headers), { fin: false }));
  const ok = rawRequest(c, [...base, ['te', 'Trailers'], ['x-tab', 'a\tb'], ['x-latin1', 'caf\xe9']]);
  await settle(10);
  for (const [i, [what]] of cases.entries()) {
    const side = s.allStreams.get((streams[i] as MemoryQuicStream).id) as MemoryQuicStream;
    t.same(side.sentResets, [H3_MESSAGE_ERROR], `${what}: reset with H3_MESSAGE_ERROR`);
    t.same(side.sentStopSending, [H3_MESSAGE_ERROR], `${what}: reading stopped with H3_MESSAGE_ERROR`);
  }
  t.equal(requests.length, 1, 'only the well-formed request reached the application');
  t.equal(requests[0]?.[4]?.[0], 'te', 'TE: trailers (any case) is allowed');
  t.notOk(s.isClosed, 'stream errors, not connection errors');
  t.ok(ok);
  c.close(0x100);
});

t.test('DATA before HEADERS → connection error H3_FRAME_UNEXPECTED (§4.1)', async (t) => {
  const { c, s } = rawClient();
  controlStream(c);
  const stream = c.openStream(true);
  stream.write(Buffer.concat([data('early'), encodeHeadersFrame(encodeFieldSection(GET))]));
  await expectConnectionClosed(t, s, H3_FRAME_UNEXPECTED, 'DATA first');
});

t.test('unknown frames before HEADERS are fine (§4.1, §9)', async (t) => {
  const { c, server } = rawClient();
  controlStream(c);
  const got = nextRequest(server);
  const stream = c.openStream(true);
  stream.write(Buffer.concat([encodeFrame(0x21, Buffer.from('pad')), encodeFrame(0x2f, Buffer.alloc(0)), encodeHeadersFrame(encodeFieldSection(GET))]));
  stream.end();
  const [, headers] = await got;
  t.same(headers, GET);
  c.close(0x100);
});

t.test('control-stream frames on a request stream → H3_FRAME_UNEXPECTED', async (t) => {
  const frames: Array<[string, Buffer]> = [
    ['SETTINGS (§7.2.4)', encodeSettingsFrame({})],
    ['GOAWAY (§7.2.6)', encodeGoawayFrame(0)],
    ['MAX_PUSH_ID (§7.2.7)', encodeMaxPushIdFrame(1)],
    ['CANCEL_PUSH (§7.2.3)', encodeCancelPushFrame(1)],
    ['PUSH_PROMISE from a client (§7.2.5)', encodePushPromiseFrame(0, encodeFieldSection(GET))],
    ['PRIORITY, an HTTP/2 type (§7.2.8)', encodeFrame(0x02, Buffer.from([0]))],
  ];
  for (const [what, frame] of frames) {
    await t.test(what, async (t) => {
      const { c, s } = rawClient();
      controlStream(c);
      rawRequest(c, GET, { more: [frame] });
      await expectConnectionClosed(t, s, H3_FRAME_UNEXPECTED, what);
    });
  }
});

t.test('PUSH_PROMISE to a client that sent no MAX_PUSH_ID → H3_ID_ERROR (§7.2.5)', async (t) => {
  const { c, s, client } = rawServer();
  controlStream(s);
  const request = client.request(GET, { endStream: true });
  const side = await s.waitForStream(request.id as number);
  side.write(encodePushPromiseFrame(0, encodeFieldSection(GET)));
  await expectConnectionClosed(t, c, H3_ID_ERROR, 'push promise');
});

t.test('trailers, both ways', async (t) => {
  const { client, server } = sessions();
  echo(server);
  const request = client.request(post());
  const { closed } = record(request);
  const serverTrailers = new Promise<HeaderList>((resolve) => {
    server.once('request', (stream: Http3RequestStream) => stream.on('trailers', resolve));
  });
  request.write('body');
  request.sendTrailers([['x-checksum', 'abc'], ['grpc-status', '0']]);
  t.throws(() => request.write('more'), /after end/, 'nothing after trailers');
  const seen = await closed;
  t.same(await serverTrailers, [['x-checksum', 'abc'], ['grpc-status', '0']], "the server's 'trailers'");
  t.equal(seen.body, 'body');
  t.same(seen.trailers, [['x-checksum', 'abc'], ['grpc-status', '0']], 'echoed back as response trailers');
  t.ok(seen.ended);
  client.close();
});

t.test('trailers right after the header section (no content)', async (t) => {
  const { c, server } = rawClient();
  controlStream(c);
  const got = nextRequest(server);
  rawRequest(c, post(), { more: [encodeHeadersFrame(encodeFieldSection([['x-t', '1']]))] });
  const [, , { seen }] = await got;
  await settle();
  t.same(seen.trailers, [['x-t', '1']]);
  t.ok(seen.ended);
  c.close(0x100);
});

t.test('a trailer section with a pseudo-header is malformed (§4.3)', async (t) => {
  const { c, s } = rawClient();
  controlStream(c);
  const stream = rawRequest(c, post(), { more: [data('x'), encodeHeadersFrame(encodeFieldSection([[':path', '/x']]))], fin: false });
  const side = await serverSide(s, stream.id);
  t.same(side.sentResets, [H3_MESSAGE_ERROR]);
  c.close(0x100);
});

t.test('HEADERS or DATA after the trailers → H3_FRAME_UNEXPECTED (§4.1)', async (t) => {
  const trailers = encodeHeadersFrame(encodeFieldSection([['x-t', '1']]));
  for (const [what, extra] of [
    ['HEADERS', encodeHeadersFrame(encodeFieldSection([['x-t', '2']]))],
    ['DATA', data('late')],
  ] as const) {
    await t.test(what, async (t) => {
      const { c, s } = rawClient();
      controlStream(c);
      rawRequest(c, post(), { more: [data('x'), trailers, extra] });
      await expectConnectionClosed(t, s, H3_FRAME_UNEXPECTED, `${what} after trailers`);
    });
  }
});

t.test('HEADERS on a CONNECT stream after the request → H3_FRAME_UNEXPECTED (§4.4)', async (t) => {
  const { c, s } = rawClient({ enableConnectProtocol: true });
  controlStream(c);
  rawRequest(c, WEBSOCKET, { more: [data('tunnel'), encodeHeadersFrame(encodeFieldSection([['x-t', '1']]))], fin: false });
  await expectConnectionClosed(t, s, H3_FRAME_UNEXPECTED, 'trailers on CONNECT');
});

t.test('unknown frames on a request stream are skipped (§9)', async (t) => {
  const { c, server } = rawClient();
  controlStream(c);
  const got = nextRequest(server);
  rawRequest(c, post(), { more: [data('a'), encodeFrame(0x21, Buffer.alloc(300, 1)), data('b'), encodeFrame(0xdead, Buffer.from('?')), data('c')] });
  const [stream, , { seen }] = await got;
  if (!seen.ended) await once(stream, 'end');
  t.equal(seen.body, 'abc');
  c.close(0x100);
});

t.test('a request stream that ends before HEADERS → H3_REQUEST_INCOMPLETE (§4.1)', async (t) => {
  const { c, s } = rawClient();
  controlStream(c);
  const stream = c.openStream(true);
  stream.write(encodeFrame(0x21, Buffer.from('only grease')));
  stream.end();
  const side = await serverSide(s, stream.id);
  t.same(side.sentResets, [H3_REQUEST_INCOMPLETE]);
  t.notOk(s.isClosed);
  c.close(0x100);
});

t.test('a request stream that ends inside a frame → H3_FRAME_ERROR (§7.1)', async (t) => {
  const { c, s } = rawClient();
  controlStream(c);
  const stream = c.openStream(true);
  stream.write(Buffer.concat([encodeHeadersFrame(encodeFieldSection(post())), encodeFrameHeader(0, 10), Buffer.from('short')]));
  stream.end();
  await expectConnectionClosed(t, s, H3_FRAME_ERROR, 'truncated DATA');
});

t.test('content-length must match the DATA received (§4.1.2)', async (t) => {
  for (const [what, length, body] of [
    ['more content', '3', 'abcd'],
    ['less content', '5', 'abc'],
  ] as const) {
    await t.test(what, async (t) => {
      const { c, s, server } = rawClient();
      controlStream(c);
      const got = nextRequest(server);
      const stream = rawRequest(c, [...post(), ['content-length', length]], { more: [data(body)] });
      const [, , { seen }] = await got;
      const side = await serverSide(s, stream.id);
      t.same(side.sentResets, [H3_MESSAGE_ERROR], 'reset with H3_MESSAGE_ERROR');
      t.same(seen.errors.map((e) => e.code), [H3_MESSAGE_ERROR], "the request stream emitted 'error'");
      t.notOk(seen.ended, "no 'end'");
      c.close(0x100);
    });
  }
  const { client, server } = sessions();
  echo(server);
  const request = client.request([...post(), ['content-length', '5']]);
  const { closed } = record(request);
  request.write('12345');
  request.end();
  t.equal((await closed).body, '12345', 'a matching content-length is fine');
  client.close();
});

t.test('responses: interim 1xx, then the final one', async (t) => {
  const { client, server } = sessions();
  server.on('request', (stream: Http3RequestStream) => {
    stream.respond([[':status', '103'], ['link', '</style.css>; rel=preload']]);
    stream.respond([[':status', '100']]);
    stream.respond([[':status', '200']], { endStream: true });
  });
  const { closed } = record(client.request(GET, { endStream: true }));
  const seen = await closed;
  t.same(seen.informational, [[[':status', '103'], ['link', '</style.css>; rel=preload']], [[':status', '100']]]);
  t.same(seen.response, [[':status', '200']]);
  t.ok(seen.ended);
  client.close();
});

t.test('malformed responses → H3_MESSAGE_ERROR at the client', async (t) => {
  const cases: Array<[string, HeaderList | null, Buffer[]]> = [
    ['101 Switching Protocols (§4.5)', [[':status', '101']], []],
    ['no :status', [['content-type', 'text/plain']], []],
    ['a bad :status', [[':status', '2000']], []],
    ['a request pseudo-header', [[':status', '200'], [':path', '/']], []],
    ['an upper-case name', [[':status', '200'], ['Content-Type', 'x']], []],
    ['a connection-specific field', [[':status', '200'], ['transfer-encoding', 'chunked']], []],
    ['FIN without a final response', [[':status', '103']], []],
    ['content-length mismatch', [[':status', '200'], ['content-length', '10']], [data('short')]],
  ];
  for (const [what, headers, more] of cases) {
    await t.test(what, async (t) => {
      const { c, s, client } = rawServer();
      controlStream(s);
      const request = client.request(GET, { endStream: true });
      const { seen, closed } = record(request);
      const side = await s.waitForStream(0);
      side.write(Buffer.concat([...(headers ? [encodeHeadersFrame(encodeFieldSection(headers))] : []), ...more]));
      side.end();
      await closed;
      t.same(seen.errors.map((e) => e.code), [H3_MESSAGE_ERROR], 'stream error H3_MESSAGE_ERROR');
      t.equal(seen.response === null || what === 'content-length mismatch', true, 'no malformed response was handed on');
      t.notOk(c.isClosed);
      c.close(0x100);
    });
  }
});

t.test('a HEAD response, a 204 and a 304 carry no content whatever content-length says', async (t) => {
  const { client, server } = sessions();
  server.on('request', (stream: Http3RequestStream, headers: HeaderList) => {
    const path = headers.find(([n]) => n === ':path')?.[1];
    stream.respond([[':status', path === '/304' ? '304' : path === '/204' ? '204' : '200'], ['content-length', '1234']], { endStream: true });
  });
  for (const [method, path] of [['HEAD', '/'], ['GET', '/204'], ['GET', '/304']]) {
    const { closed } = record(client.request([[':method', method as string], [':scheme', 'https'], [':authority', 'x'], [':path', path as string]], { endStream: true }));
    const seen = await closed;
    t.same(seen.errors, [], `${method} ${path}`);
    t.ok(seen.ended);
  }
  client.close();
});

t.test('header sections we send are checked', async (t) => {
  const { client, server } = sessions();
  t.throws(() => client.request([[':method', 'GET'], ['Bad', 'x']]), TypeError, 'upper case');
  t.throws(() => client.request([[':path', '/']]), TypeError, 'no :method');
  t.throws(() => client.request([...GET, ['connection', 'close']]), TypeError, 'connection-specific');
  t.throws(() => client.request([...GET, ['x', 'a\r\nb']]), TypeError, 'CRLF');
  t.throws(() => client.request([...GET, ['x', '€']]), TypeError, 'not a byte');
  const got = nextRequest(server);
  client.request(GET, { endStream: true });
  const [stream] = await got;
  t.throws(() => stream.write('x'), /respond\(\)/, 'no content before a response');
  t.throws(() => stream.end(), /respond\(\)/, 'no end before a response');
  t.throws(() => stream.respond([[':status', '200'], ['Content-Type', 'x']]), TypeError);
  t.throws(() => stream.respond([[':method', 'GET']]), TypeError, 'no :status');
  t.throws(() => stream.respond([[':status', '101']]), TypeError, 'no 101 in HTTP/3');
  t.throws(() => stream.respond([[':status', '103']], { endStream: true }), TypeError, 'a 1xx cannot end the stream');
  stream.respond([[':status', '200']]);
  t.throws(() => stream.respond([[':status', '200']]), /already/, 'one final response');
  t.throws(() => stream.sendTrailers([[':status', '200']]), TypeError, 'no pseudo-headers in trailers');
  stream.end();
  t.throws(() => stream.write('x'), /after end/);
  t.throws(() => (client as unknown as { request: () => void }).request.call(server), /client side/);
  client.close();
});

t.test('field section size limits', async (t) => {
  await t.test('a request header section above our limit is answered 431 and never handed on (§4.2.2)', async (t) => {
    const { c, s, server } = rawClient({ maxFieldSectionSize: 500, maxHeadersFrameSize: 4000 });
    let requests = 0;
    server.on('request', () => requests++);
    const problems: number[] = [];
    server.on('streamError', (error: { code: number }) => problems.push(error.code));
    controlStream(c);
    const big = rawRequest(c, [...GET, ['x-big', 'y'.repeat(600)]], { fin: false });
    const side = await serverSide(s, big.id);
    t.same(responseOf(side).headers, [[[':status', '431']]], 'a 431 response');
    t.ok(side.endCalled, 'and a clean end of the response');
    t.same(side.sentStopSending, [H3_NO_ERROR], 'reading stopped with H3_NO_ERROR (§4.1)');
    t.same(side.sentResets, [], 'no reset');
    t.equal(requests, 0);
    t.same(problems, [H3_EXCESSIVE_LOAD], "'streamError' for diagnostics");
    const fine = rawRequest(c, [...GET, ['x-big', 'y'.repeat(200)]]);
    await settle();
    t.equal(requests, 1, 'a smaller one is fine');
    t.ok(fine);
    c.close(0x100);
  });
  await t.test('a HEADERS frame above the encoded limit is answered 431 without being buffered', async (t) => {
    const { c, s, server } = rawClient({ maxFieldSectionSize: 1000, maxHeadersFrameSize: 100 });
    let requests = 0;
    server.on('request', () => requests++);
    controlStream(c);
    const stream = c.openStream(true);
    stream.write(encodeFrameHeader(0x01, 1 << 20));
    for (let i = 0; i < 4; i++) stream.write(Buffer.alloc(65536));
    const side = await serverSide(s, stream.id);
    t.same(responseOf(side).headers, [[[':status', '431']]]);
    t.same(side.sentStopSending, [H3_NO_ERROR]);
    t.equal(requests, 0);
    t.notOk(s.isClosed);
    c.close(0x100);
  });
  await t.test('the client does not send more than the server allows (§4.2.2 SHOULD NOT)', async (t) => {
    const { client } = sessions({ server: { maxFieldSectionSize: 300 } });
    await client.waitForSettings();
    t.throws(() => client.request([...GET, ['x-big', 'y'.repeat(400)]]), RangeError);
    client.close();
  });
  await t.test('the server does not send more than the client allows', async (t) => {
    const { client, server } = sessions({ client: { maxFieldSectionSize: 300 } });
    const got = nextRequest(server);
    client.request(GET, { endStream: true });
    const [stream] = await got;
    await server.waitForSettings();
    t.throws(() => stream.respond([[':status', '200'], ['x-big', 'y'.repeat(400)]]), RangeError);
    client.close();
  });
  await t.test('a response header section above the client’s limit → H3_EXCESSIVE_LOAD', async (t) => {
    const { c, s, client } = rawServer({ maxFieldSectionSize: 200 });
    controlStream(s);
    const request = client.request(GET, { endStream: true });
    const { seen, closed } = record(request);
    const side = await s.waitForStream(0);
    side.write(encodeHeadersFrame(encodeFieldSection([[':status', '200'], ['x-big', 'y'.repeat(300)]])));
    await closed;
    t.same(seen.errors.map((e) => e.code), [H3_EXCESSIVE_LOAD]);
    t.equal(seen.response, null);
    t.same((c.allStreams.get(0) as MemoryQuicStream).sentStopSending, [H3_EXCESSIVE_LOAD]);
    t.notOk(c.isClosed);
    c.close(0x100);
  });
});

t.test('a dynamic table reference in a request → QPACK_DECOMPRESSION_FAILED on the connection', async (t) => {
  const { c, s } = rawClient();
  controlStream(c);
  rawRequest(c, Buffer.from('0000 80'.replace(/ /g, ''), 'hex'));
  await expectConnectionClosed(t, s, QPACK_DECOMPRESSION_FAILED, 'dynamic reference');
});

t.test('a non-zero Required Insert Count in a request → QPACK_DECOMPRESSION_FAILED', async (t) => {
  const { c, s } = rawClient();
  controlStream(c);
  rawRequest(c, Buffer.from('0100d1', 'hex'));
  await expectConnectionClosed(t, s, QPACK_DECOMPRESSION_FAILED, 'RIC 1');
});

t.test('requests work before the peer’s SETTINGS arrive (§7.2.4.2)', async (t) => {
  const { c, server } = rawClient();
  const got = nextRequest(server);
  rawRequest(c, GET);
  const [, headers] = await got;
  t.same(headers, GET, 'no control stream from the client yet, still served');
  t.equal(server.peerSettings, null);
  c.close(0x100);
});
