import t from 'tap';
import {
  H3_CLOSED_CRITICAL_STREAM,
  H3_FRAME_UNEXPECTED,
  H3_ID_ERROR,
  H3_MISSING_SETTINGS,
  H3_SETTINGS_ERROR,
  H3_STREAM_CREATION_ERROR,
  QPACK_DECODER_STREAM_ERROR,
  QPACK_ENCODER_STREAM_ERROR,
} from '../../src/http3/errors.js';
import {
  FrameParser,
  encodeCancelPushFrame,
  encodeFrame,
  encodeGoawayFrame,
  encodeHeadersFrame,
  encodeMaxPushIdFrame,
  encodePushPromiseFrame,
  encodeSettingsFrame,
} from '../../src/http3/frames.js';
import { encodeFieldSection } from '../../src/http3/qpack/encoder.js';
import { Http3Session } from '../../src/http3/session.js';
import type { Http3Settings } from '../../src/http3/settings.js';
import { decodeVarint } from '../../src/http3/varint.js';
import {
  GET,
  controlStream,
  data,
  echo,
  expectConnectionClosed,
  rawClient,
  rawRequest,
  rawServer,
  record,
  sessions,
  settle,
  uniStream,
} from './helpers.js';
import { MemoryQuicConnection, type MemoryQuicStream } from './memory-quic.js';

/** The frames a peer received on one of our streams, after its type byte. */
function framesOn(stream: MemoryQuicStream): Array<{ type: number; payload?: Buffer; settings?: Http3Settings }> {
  const out: Array<{ type: number; payload?: Buffer; settings?: Http3Settings }> = [];
  const bytes = stream.writtenBytes;
  const type = decodeVarint(bytes) as { length: number };
  const parser = new FrameParser(
    {
      frameStart: (frameType) => {
        out.push({ type: frameType });
      },
      data: () => {},
      frame: (frame) => {
        if (frame.kind === 'settings') (out[out.length - 1] as { settings?: Http3Settings }).settings = frame.settings;
      },
    },
    { maxFieldSectionFrameSize: 1 << 20 },
  );
  parser.push(bytes.subarray(type.length));
  return out;
}

function ourUniStreams(conn: MemoryQuicConnection): MemoryQuicStream[] {
  return [...conn.allStreams.values()].filter((s) => s.local && !s.bidirectional);
}

t.test('SETTINGS exchange', async (t) => {
  const { c, s, server, client } = sessions({ server: { enableConnectProtocol: true, maxFieldSectionSize: 10000 } });
  const serverSaw: Http3Settings[] = [];
  server.on('settings', (settings: Http3Settings) => serverSaw.push(settings));
  const settings = await client.waitForSettings();
  t.equal(settings.enableConnectProtocol, true, 'the client sees ENABLE_CONNECT_PROTOCOL = 1 (RFC 9220 §3)');
  t.equal(settings.maxFieldSectionSize, 10000, 'and the server’s MAX_FIELD_SECTION_SIZE');
  t.equal(settings.qpackMaxTableCapacity, 0, 'QPACK table capacity 0');
  t.equal(settings.qpackBlockedStreams, 0, 'no blocked streams');
  t.equal(client.peerSettings, settings);
  await server.waitForSettings();
  t.equal(serverSaw.length, 1, "the server got the client's SETTINGS ('settings' event)");
  t.equal(serverSaw[0]?.enableConnectProtocol, false, 'a client never advertises extended CONNECT');
  t.equal(serverSaw[0]?.maxFieldSectionSize, 65536, 'the default limit: 64 KiB');

  // What went on the wire: one control stream each, type 0x00, SETTINGS first.
  for (const [conn, who] of [[s, 'server'], [c, 'client']] as const) {
    const uni = ourUniStreams(conn);
    t.equal(uni.length, 1, `${who}: one unidirectional stream (no QPACK streams by default, RFC 9204 §4.2 MAY)`);
    const control = uni[0] as MemoryQuicStream;
    t.equal(control.writtenBytes[0], 0x00, `${who}: stream type 0x00 (control)`);
    const frames = framesOn(control);
    t.equal(frames[0]?.type, 0x04, `${who}: SETTINGS is the first frame`);
    t.equal(frames[0]?.settings?.unknown.length, 1, `${who}: with one grease setting (RFC 9114 §7.2.4.1)`);
    t.equal(control.endCalled, false, `${who}: the control stream stays open`);
  }
  const serverFrames = framesOn(ourUniStreams(s)[0] as MemoryQuicStream);
  t.equal(serverFrames[0]?.settings?.enableConnectProtocol, true, 'the server wrote 0x08 = 1');
  const clientFrames = framesOn(ourUniStreams(c)[0] as MemoryQuicStream);
  t.equal(clientFrames[0]?.settings?.enableConnectProtocol, false, 'the client did not');
  t.equal(serverFrames[0]?.settings?.maxFieldSectionSize, 10000, 'MAX_FIELD_SECTION_SIZE (0x06) as configured');
  client.close();
  await c.whenClosed();
});

t.test('SETTINGS go out before anything is received', async (t) => {
  const [c, s] = MemoryQuicConnection.pair();
  new Http3Session(s, { role: 'server', enableConnectProtocol: true });
  const control = ourUniStreams(s)[0] as MemoryQuicStream;
  t.ok(control, 'control stream opened in the constructor');
  t.ok(control.writtenBytes.length > 2, 'SETTINGS written synchronously');
  t.equal(decodeVarint(control.writtenBytes, 1)?.value, 0x04);
  c.close(0x100);
  await s.whenClosed();
});

t.test('a client does not advertise ENABLE_CONNECT_PROTOCOL even if asked', async (t) => {
  const { c, server } = sessions({ client: { enableConnectProtocol: true } });
  const settings = await server.waitForSettings();
  t.equal(settings.enableConnectProtocol, false);
  c.close(0x100);
});

t.test('grease can be turned off; QPACK streams can be opened', async (t) => {
  const { c, s, client } = sessions({ server: { grease: false, qpackStreams: true } });
  const settings = await client.waitForSettings();
  t.same(settings.unknown, [], 'no grease setting');
  const types = ourUniStreams(s).map((stream) => stream.writtenBytes[0]);
  t.same(types, [0x00, 0x02, 0x03], 'control, QPACK encoder, QPACK decoder');
  await settle();
  t.notOk(c.isClosed, "the client accepts the server's (empty) QPACK streams");
  const request = client.request(GET, { endStream: true });
  t.ok(request, 'and requests still work');
  c.close(0x100);
});

t.test('control stream errors', async (t) => {
  const cases: Array<{ name: string; code: number; act: (c: MemoryQuicConnection) => void | Promise<void> }> = [
    {
      name: 'a second control stream → H3_STREAM_CREATION_ERROR (§6.2.1)',
      code: H3_STREAM_CREATION_ERROR,
      act: (c) => {
        controlStream(c);
        controlStream(c);
      },
    },
    {
      name: 'first frame GOAWAY, not SETTINGS → H3_MISSING_SETTINGS',
      code: H3_MISSING_SETTINGS,
      act: (c) => void controlStream(c, null, encodeGoawayFrame(0)),
    },
    {
      name: 'first frame a reserved type → H3_MISSING_SETTINGS (§9)',
      code: H3_MISSING_SETTINGS,
      act: (c) => void controlStream(c, null, encodeFrame(0x21, Buffer.from('x')), encodeSettingsFrame({})),
    },
    {
      name: 'first frame an unknown type → H3_MISSING_SETTINGS',
      code: H3_MISSING_SETTINGS,
      act: (c) => void controlStream(c, null, encodeFrame(0x1234, Buffer.alloc(0))),
    },
    {
      name: 'a second SETTINGS → H3_FRAME_UNEXPECTED (§7.2.4)',
      code: H3_FRAME_UNEXPECTED,
      act: (c) => void controlStream(c, {}, encodeSettingsFrame({})),
    },
    {
      name: 'DATA on the control stream → H3_FRAME_UNEXPECTED (§7.2.1)',
      code: H3_FRAME_UNEXPECTED,
      act: (c) => void controlStream(c, {}, data('x')),
    },
    {
      name: 'HEADERS on the control stream → H3_FRAME_UNEXPECTED (§7.2.2)',
      code: H3_FRAME_UNEXPECTED,
      act: (c) => void controlStream(c, {}, encodeHeadersFrame(encodeFieldSection(GET))),
    },
    {
      name: 'PUSH_PROMISE on the control stream → H3_FRAME_UNEXPECTED (§7.2.5)',
      code: H3_FRAME_UNEXPECTED,
      act: (c) => void controlStream(c, {}, encodePushPromiseFrame(0, encodeFieldSection(GET))),
    },
    {
      name: 'an HTTP/2 frame type (WINDOW_UPDATE) → H3_FRAME_UNEXPECTED (§7.2.8)',
      code: H3_FRAME_UNEXPECTED,
      act: (c) => void controlStream(c, {}, encodeFrame(0x08, Buffer.from([0, 0, 0, 1]))),
    },
    {
      name: 'the peer closes its control stream (FIN) → H3_CLOSED_CRITICAL_STREAM',
      code: H3_CLOSED_CRITICAL_STREAM,
      act: (c) => controlStream(c).end(),
    },
    {
      name: 'the peer resets its control stream → H3_CLOSED_CRITICAL_STREAM',
      code: H3_CLOSED_CRITICAL_STREAM,
      act: async (c) => {
        const control = controlStream(c);
        await settle(); // delivered first: a reset would drop the queued type byte and SETTINGS
        control.reset(0x100);
      },
    },
    {
      name: 'duplicate setting → H3_SETTINGS_ERROR',
      code: H3_SETTINGS_ERROR,
      act: (c) => void controlStream(c, { grease: false, extra: [[0x06, 1], [0x06, 2]] }),
    },
    {
      name: 'HTTP/2 setting 0x02 (ENABLE_PUSH) → H3_SETTINGS_ERROR',
      code: H3_SETTINGS_ERROR,
      act: (c) => void controlStream(c, { grease: false, extra: [[0x02, 0]] }),
    },
    {
      name: 'HTTP/2 setting 0x04 (INITIAL_WINDOW_SIZE) → H3_SETTINGS_ERROR',
      code: H3_SETTINGS_ERROR,
      act: (c) => void controlStream(c, { grease: false, extra: [[0x04, 65535]] }),
    },
    {
      name: 'ENABLE_CONNECT_PROTOCOL = 2 → H3_SETTINGS_ERROR',
      code: H3_SETTINGS_ERROR,
      act: (c) => void controlStream(c, { grease: false, extra: [[0x08, 2]] }),
    },
    {
      name: 'CANCEL_PUSH to a server that never promised anything → H3_ID_ERROR (§7.2.3)',
      code: H3_ID_ERROR,
      act: (c) => void controlStream(c, {}, encodeCancelPushFrame(0)),
    },
    {
      name: 'MAX_PUSH_ID going down → H3_ID_ERROR (§7.2.7)',
      code: H3_ID_ERROR,
      act: (c) => void controlStream(c, {}, encodeMaxPushIdFrame(10), encodeMaxPushIdFrame(9)),
    },
    {
      name: 'a push stream from a client → H3_STREAM_CREATION_ERROR (§6.2.2)',
      code: H3_STREAM_CREATION_ERROR,
      act: (c) => {
        controlStream(c);
        uniStream(c, 0x01, Buffer.from([0x00]));
      },
    },
    {
      name: 'a second QPACK encoder stream → H3_STREAM_CREATION_ERROR (RFC 9204 §4.2)',
      code: H3_STREAM_CREATION_ERROR,
      act: (c) => {
        uniStream(c, 0x02);
        uniStream(c, 0x02);
      },
    },
    {
      name: 'a second QPACK decoder stream → H3_STREAM_CREATION_ERROR',
      code: H3_STREAM_CREATION_ERROR,
      act: (c) => {
        uniStream(c, 0x03);
        uniStream(c, 0x03);
      },
    },
    {
      name: 'closing the QPACK encoder stream → H3_CLOSED_CRITICAL_STREAM',
      code: H3_CLOSED_CRITICAL_STREAM,
      act: (c) => uniStream(c, 0x02).end(),
    },
    {
      name: 'resetting the QPACK decoder stream → H3_CLOSED_CRITICAL_STREAM',
      code: H3_CLOSED_CRITICAL_STREAM,
      act: async (c) => {
        const decoder = uniStream(c, 0x03);
        await settle();
        decoder.reset(0x100);
      },
    },
    {
      name: 'an insert on the encoder stream → QPACK_ENCODER_STREAM_ERROR',
      code: QPACK_ENCODER_STREAM_ERROR,
      act: (c) => void uniStream(c, 0x02, Buffer.from('c00f7777772e6578616d706c652e636f6d', 'hex')),
    },
    {
      name: 'a non-zero table capacity on the encoder stream → QPACK_ENCODER_STREAM_ERROR',
      code: QPACK_ENCODER_STREAM_ERROR,
      act: (c) => void uniStream(c, 0x02, Buffer.from('3fbd01', 'hex')),
    },
    {
      name: 'a Section Acknowledgment on the decoder stream → QPACK_DECODER_STREAM_ERROR',
      code: QPACK_DECODER_STREAM_ERROR,
      act: (c) => void uniStream(c, 0x03, Buffer.from([0x80])),
    },
    {
      name: 'an Insert Count Increment on the decoder stream → QPACK_DECODER_STREAM_ERROR',
      code: QPACK_DECODER_STREAM_ERROR,
      act: (c) => void uniStream(c, 0x03, Buffer.from([0x01])),
    },
  ];
  for (const { name, code, act } of cases) {
    await t.test(name, async (t) => {
      const { c, s, server } = rawClient();
      const errors: number[] = [];
      server.on('error', (error: { code: number }) => errors.push(error.code));
      await act(c);
      await expectConnectionClosed(t, s, code, name);
      t.same(errors, [code], "the session emitted 'error' with the code");
      t.match(s.closedWith?.reason ?? '', /\S/, 'with a reason');
    });
  }
});

t.test('STOP_SENDING on our control stream → H3_CLOSED_CRITICAL_STREAM', async (t) => {
  const { c, s } = rawClient();
  controlStream(c);
  const theirs = await c.waitForStream(3);
  theirs.stopSending(0x100);
  await expectConnectionClosed(t, s, H3_CLOSED_CRITICAL_STREAM, 'control stream stopped');
});

t.test('client-side control stream errors', async (t) => {
  const cases: Array<{ name: string; code: number; act: (s: MemoryQuicConnection) => void }> = [
    {
      name: 'MAX_PUSH_ID from a server → H3_FRAME_UNEXPECTED (§7.2.7)',
      code: H3_FRAME_UNEXPECTED,
      act: (s) => void controlStream(s, {}, encodeMaxPushIdFrame(1)),
    },
    {
      name: 'GOAWAY with a stream id that is not client-bidirectional → H3_ID_ERROR (§7.2.6)',
      code: H3_ID_ERROR,
      act: (s) => void controlStream(s, {}, encodeGoawayFrame(2)),
    },
    {
      name: 'GOAWAY id going up → H3_ID_ERROR (§5.2)',
      code: H3_ID_ERROR,
      act: (s) => void controlStream(s, {}, encodeGoawayFrame(4), encodeGoawayFrame(8)),
    },
    {
      name: 'CANCEL_PUSH when we never allowed a push → H3_ID_ERROR (§7.2.3)',
      code: H3_ID_ERROR,
      act: (s) => void controlStream(s, {}, encodeCancelPushFrame(0)),
    },
    {
      name: 'a push stream without MAX_PUSH_ID → H3_ID_ERROR (§4.6)',
      code: H3_ID_ERROR,
      act: (s) => {
        controlStream(s);
        uniStream(s, 0x01, Buffer.from([0x00]));
      },
    },
    {
      name: 'a server-initiated bidirectional stream → H3_STREAM_CREATION_ERROR (§6.1)',
      code: H3_STREAM_CREATION_ERROR,
      act: (s) => void s.openStream(true).write(Buffer.from([0x00, 0x00])),
    },
    {
      name: 'a second control stream from the server → H3_STREAM_CREATION_ERROR',
      code: H3_STREAM_CREATION_ERROR,
      act: (s) => {
        controlStream(s);
        controlStream(s);
      },
    },
  ];
  for (const { name, code, act } of cases) {
    await t.test(name, async (t) => {
      const { c, s } = rawServer();
      act(s);
      await expectConnectionClosed(t, c, code, name);
    });
  }
});

t.test('the server accepts GOAWAY going down, and repeated equal ones', async (t) => {
  const { c, s, client } = rawServer();
  const ids: number[] = [];
  client.on('goaway', (id: number) => ids.push(id));
  controlStream(s, {}, encodeGoawayFrame(400), encodeGoawayFrame(400), encodeGoawayFrame(8));
  await settle();
  t.same(ids, [400, 400, 8]);
  t.equal(client.goawayReceived, 8);
  t.notOk(c.isClosed);
  c.close(0x100);
});

t.test('unknown and reserved stream types: STOP_SENDING with H3_STREAM_CREATION_ERROR, no connection error (§6.2, §6.2.3)', async (t) => {
  const { c, s, client, server } = sessions();
  echo(server);
  const grease = uniStream(c, 0x21, Buffer.from('anything at all'));
  const unknown = uniStream(c, 0x54, Buffer.from('more'));
  const bigGrease = uniStream(c, 0x1f * 100000 + 0x21, Buffer.from('x'));
  await settle();
  for (const stream of [grease, unknown, bigGrease]) {
    t.same(stream.receivedStopSending, [H3_STREAM_CREATION_ERROR], `type on stream ${stream.id} was refused`);
  }
  t.notOk(s.isClosed, 'the connection stays up');
  const request = client.request(GET, { endStream: true });
  const { closed } = record(request);
  const seen = await closed;
  t.equal(seen.response?.[0]?.[1], '200', 'requests still work');
  client.close();
});

t.test('peer QPACK streams are accepted', async (t) => {
  const { c, s, client, server } = sessions();
  echo(server);
  const encoder = uniStream(c, 0x02, Buffer.from([0x20])); // Set Dynamic Table Capacity 0
  const decoder = uniStream(c, 0x03, Buffer.from([0x48])); // Stream Cancellation
  encoder.write(Buffer.from([0x20]));
  decoder.write(Buffer.from([0x7f]));
  decoder.write(Buffer.from([0x01])); // Stream Cancellation split over writes
  await settle();
  t.notOk(s.isClosed, 'no error');
  const { closed } = record(client.request(GET, { endStream: true }));
  t.equal((await closed).response?.[0]?.[1], '200');
  client.close();
});

t.test('a stream type split across packets, and one sent non-minimally', async (t) => {
  const { c, s, server } = rawClient();
  const control = c.openStream(false);
  control.write(Buffer.from([0x40])); // first byte of a two-byte varint: 0x4000 = 0
  await settle();
  control.write(Buffer.concat([Buffer.from([0x00]), encodeSettingsFrame({ grease: false, maxFieldSectionSize: 1234 })]));
  const settings = await server.waitForSettings();
  t.equal(settings.maxFieldSectionSize, 1234, 'parsed as a control stream');
  t.notOk(s.isClosed);
  c.close(0x100);
});

t.test('a unidirectional stream closed or reset before its type is tolerated (§6.2)', async (t) => {
  const { c, s, server } = rawClient();
  c.openStream(false).end();
  c.openStream(false).reset(0x100);
  await settle();
  controlStream(c);
  await server.waitForSettings();
  t.notOk(s.isClosed);
  c.close(0x100);
});

t.test('SETTINGS in pieces, one byte at a time', async (t) => {
  const { c, server } = rawClient();
  const control = c.openStream(false);
  const bytes = Buffer.concat([Buffer.from([0x00]), encodeSettingsFrame({ maxFieldSectionSize: 999, extra: [[0x21, 5]] })]);
  for (const byte of bytes) {
    control.write(Buffer.from([byte]));
    await new Promise((resolve) => setImmediate(resolve));
  }
  const settings = await server.waitForSettings();
  t.equal(settings.maxFieldSectionSize, 999);
  c.close(0x100);
});

t.test('waitForSettings rejects when the connection closes first', async (t) => {
  const { c, server } = rawClient();
  const waiting = server.waitForSettings();
  c.close(0x100);
  await t.rejects(waiting);
  await t.rejects(server.waitForSettings(), 'and afterwards');
});

t.test('a request on a connection with a bad control stream is not processed', async (t) => {
  const { c, s, server } = rawClient();
  let requests = 0;
  server.on('request', () => requests++);
  controlStream(c, null, encodeGoawayFrame(0));
  rawRequest(c, GET);
  await expectConnectionClosed(t, s, H3_MISSING_SETTINGS, 'missing settings');
  t.equal(requests, 0);
});
