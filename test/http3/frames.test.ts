import t, { type Test } from 'tap';
import {
  H3_EXCESSIVE_LOAD,
  H3_FRAME_ERROR,
  H3_FRAME_UNEXPECTED,
  H3_SETTINGS_ERROR,
  Http3Error,
} from '../../src/http3/errors.js';
import {
  type Frame,
  type FrameParserOptions,
  FrameParser,
  FrameType,
  encodeCancelPushFrame,
  encodeDataFrame,
  encodeFrame,
  encodeFrameHeader,
  encodeGoawayFrame,
  encodeHeadersFrame,
  encodeMaxPushIdFrame,
  encodePushPromiseFrame,
  encodeSettingsFrame,
  isReservedFrameType,
} from '../../src/http3/frames.js';
import { encodeVarint } from '../../src/http3/varint.js';

type Event = { start: [number, number] } | { data: Buffer } | { frame: Frame } | { end: true };

function collect(options: Partial<FrameParserOptions> = {}, skip?: (type: number, length: number) => boolean) {
  const events: Event[] = [];
  const parser = new FrameParser(
    {
      frameStart: (type, length) => {
        events.push({ start: [type, length] });
        return skip?.(type, length) ? 'skip' : undefined;
      },
      data: (chunk) => events.push({ data: Buffer.from(chunk) }),
      frame: (frame) => events.push({ frame }),
      end: () => events.push({ end: true }),
    },
    { maxFieldSectionFrameSize: 1024, ...options },
  );
  return { parser, events };
}

function feed(parser: FrameParser, bytes: Buffer, chunkSize: number): void {
  for (let i = 0; i < bytes.length; i += chunkSize) parser.push(bytes.subarray(i, i + chunkSize));
}

/** The frames and the DATA bytes joined, as the session would see them. */
function summary(events: Event[]): unknown[] {
  const out: unknown[] = [];
  for (const event of events) {
    if ('data' in event) {
      const last = out[out.length - 1] as { data?: string } | undefined;
      if (last && last.data !== undefined) last.data += event.data.toString('latin1');
      else out.push({ data: event.data.toString('latin1') });
    } else if ('frame' in event) {
      const frame = event.frame;
      if (frame.kind === 'headers' || frame.kind === 'pushPromise') out.push({ ...frame, block: frame.block.toString('hex') });
      else if (frame.kind === 'settings') out.push({ kind: 'settings', max: frame.settings.maxFieldSectionSize, ecp: frame.settings.enableConnectProtocol });
      else out.push(frame);
    } else if ('start' in event) {
      out.push({ start: event.start });
    } else {
      out.push('end');
    }
  }
  return out;
}

function throwsH3(t: Test, fn: () => unknown, code: number, scope: 'connection' | 'stream', message: string): void {
  try {
    fn();
    t.fail(`${message}: no error`);
  } catch (error) {
    if (!(error instanceof Http3Error)) throw error;
    t.equal(error.code, code, message);
    t.equal(error.scope, scope, `${message} (${scope} error)`);
  }
}

const everyFrame = Buffer.concat([
  encodeSettingsFrame({ maxFieldSectionSize: 4096, enableConnectProtocol: true, grease: false }),
  encodeHeadersFrame(Buffer.from('0000d1d7', 'hex')),
  encodeDataFrame(Buffer.from('hello ')),
  encodeFrame(0x21, Buffer.from('grease!')),
  encodeDataFrame(Buffer.from('world')),
  encodeDataFrame(Buffer.alloc(0)),
  encodeGoawayFrame(8),
  encodeCancelPushFrame(3),
  encodeMaxPushIdFrame(1000),
  encodePushPromiseFrame(2, Buffer.from('0000d1', 'hex')),
  encodeFrame(0x1f * 3 + 0x21, Buffer.alloc(0)),
  encodeFrame(0xabcdef, Buffer.from('unknown')),
  encodeGoawayFrame((1n << 62n) - 4n),
]);

const expected = [
  { start: [FrameType.SETTINGS, 5] },
  { kind: 'settings', max: 4096, ecp: true },
  { start: [FrameType.HEADERS, 4] },
  { kind: 'headers', block: '0000d1d7' },
  { start: [FrameType.DATA, 6] },
  { data: 'hello ' },
  { start: [0x21, 7] },
  { start: [FrameType.DATA, 5] },
  { data: 'world' },
  { start: [FrameType.DATA, 0] },
  { start: [FrameType.GOAWAY, 1] },
  { kind: 'goaway', id: 8n },
  { start: [FrameType.CANCEL_PUSH, 1] },
  { kind: 'cancelPush', pushId: 3n },
  { start: [FrameType.MAX_PUSH_ID, 2] },
  { kind: 'maxPushId', pushId: 1000n },
  { start: [FrameType.PUSH_PROMISE, 4] },
  { kind: 'pushPromise', pushId: 2n, block: '0000d1' },
  { start: [0x1f * 3 + 0x21, 0] },
  { start: [0xabcdef, 7] },
  { start: [FrameType.GOAWAY, 8] },
  { kind: 'goaway', id: (1n << 62n) - 4n },
  'end',
];

t.test('every frame type round-trips, whatever the chunking', async (t) => {
  for (const size of [1, 2, 3, 5, 7, 13, everyFrame.length]) {
    const { parser, events } = collect();
    feed(parser, everyFrame, size);
    parser.end();
    t.same(summary(events), expected, `chunks of ${size}`);
  }
});

t.test('frame encodings', async (t) => {
  t.equal(encodeDataFrame(Buffer.from('abc')).toString('hex'), '0003616263', 'DATA');
  t.equal(encodeHeadersFrame(Buffer.from([0, 0])).toString('hex'), '01020000', 'HEADERS');
  t.equal(encodeGoawayFrame(4).toString('hex'), '070104', 'GOAWAY');
  t.equal(encodeCancelPushFrame(1).toString('hex'), '030101', 'CANCEL_PUSH');
  t.equal(encodeMaxPushIdFrame(64).toString('hex'), '0d024040', 'MAX_PUSH_ID (two-byte varint)');
  t.equal(encodePushPromiseFrame(1, Buffer.from([0, 0])).toString('hex'), '0503010000', 'PUSH_PROMISE');
  t.equal(encodeSettingsFrame({ grease: false, enableConnectProtocol: true }).toString('hex'), '04020801', 'SETTINGS');
  t.equal(encodeFrameHeader(FrameType.DATA, 16384).toString('hex'), '0080004000', 'DATA header with a 4-byte length');
});

t.test('DATA payloads stream through as they arrive', async (t) => {
  const payload = Buffer.alloc(100_000, 0x61);
  const bytes = encodeDataFrame(payload);
  const { parser, events } = collect();
  parser.push(bytes.subarray(0, 1000));
  const firstData = events.find((e) => 'data' in e) as { data: Buffer } | undefined;
  t.ok(firstData, 'bytes are delivered before the frame is complete');
  t.equal(firstData?.data.length, 1000 - encodeFrameHeader(0, 100_000).length);
  feed(parser, bytes.subarray(1000), 4096);
  const total = events.reduce((n, e) => n + ('data' in e ? e.data.length : 0), 0);
  t.equal(total, 100_000);
  t.ok(events.filter((e) => 'data' in e).length > 20, 'in many pieces, not one buffered block');
});

t.test('DATA larger than any buffering limit is fine', async (t) => {
  const { parser, events } = collect({ maxFieldSectionFrameSize: 10, maxSettingsFrameSize: 10 });
  feed(parser, encodeDataFrame(Buffer.alloc(5000)), 512);
  t.equal(events.reduce((n, e) => n + ('data' in e ? e.data.length : 0), 0), 5000);
});

t.test('unknown and reserved frames are skipped without buffering', async (t) => {
  for (const type of [0x21, 0x40, 0x1f * 1234 + 0x21, 0x0a, 0x0e, 0x3fff]) {
    const { parser, events } = collect({ maxFieldSectionFrameSize: 16, maxSettingsFrameSize: 16 });
    // A megabyte of payload: far above every buffering limit, so it cannot have been buffered.
    parser.push(encodeFrameHeader(type, 1 << 20));
    for (let i = 0; i < 16; i++) parser.push(Buffer.alloc(1 << 16, 0xee));
    parser.push(encodeDataFrame(Buffer.from('after')));
    parser.end();
    t.same(summary(events), [{ start: [type, 1 << 20] }, { start: [0, 5] }, { data: 'after' }, 'end'], `type 0x${type.toString(16)}`);
  }
  t.ok(isReservedFrameType(0x21));
  t.ok(isReservedFrameType(0x21 + 0x1f * 2));
  t.notOk(isReservedFrameType(0x22));
  t.notOk(isReservedFrameType(FrameType.DATA));
});

t.test('HTTP/2-only frame types are H3_FRAME_UNEXPECTED', async (t) => {
  for (const type of [0x02, 0x06, 0x08, 0x09]) {
    const { parser } = collect();
    throwsH3(t, () => parser.push(encodeFrame(type, Buffer.alloc(4))), H3_FRAME_UNEXPECTED, 'connection', `type 0x0${type}`);
  }
});

t.test('size limits', async (t) => {
  {
    const { parser } = collect({ maxFieldSectionFrameSize: 100 });
    throwsH3(t, () => parser.push(encodeFrameHeader(FrameType.HEADERS, 101)), H3_EXCESSIVE_LOAD, 'stream', 'HEADERS above the limit');
  }
  {
    const { parser, events } = collect({ maxFieldSectionFrameSize: 100 });
    parser.push(encodeHeadersFrame(Buffer.alloc(100)));
    t.equal(events.filter((e) => 'frame' in e).length, 1, 'HEADERS at the limit is accepted');
  }
  {
    const { parser } = collect({ maxFieldSectionFrameSize: 100 });
    throwsH3(t, () => parser.push(encodeFrameHeader(FrameType.PUSH_PROMISE, 200)), H3_EXCESSIVE_LOAD, 'stream', 'PUSH_PROMISE above the limit');
  }
  {
    const { parser } = collect({ maxSettingsFrameSize: 64 });
    throwsH3(t, () => parser.push(encodeFrameHeader(FrameType.SETTINGS, 65)), H3_EXCESSIVE_LOAD, 'connection', 'SETTINGS above the limit');
  }
  {
    // frameStart may skip an oversized frame instead (a server answering 431).
    const { parser, events } = collect({ maxFieldSectionFrameSize: 10 }, (type) => type === FrameType.HEADERS);
    feed(parser, Buffer.concat([encodeHeadersFrame(Buffer.alloc(500)), encodeDataFrame(Buffer.from('x'))]), 7);
    t.same(summary(events), [{ start: [1, 500] }, { start: [0, 1] }, { data: 'x' }], 'skipped HEADERS, next frame parsed');
  }
  {
    const { parser } = collect();
    const header = Buffer.concat([encodeVarint(FrameType.DATA), encodeVarint(2n ** 60n)]);
    throwsH3(t, () => parser.push(header), H3_EXCESSIVE_LOAD, 'connection', 'a length beyond 2^53-1');
  }
});

t.test('single-varint frames must be exactly one varint (§7.1, §10.8)', async (t) => {
  for (const type of [FrameType.GOAWAY, FrameType.CANCEL_PUSH, FrameType.MAX_PUSH_ID]) {
    const name = `type 0x${type.toString(16)}`;
    throwsH3(t, () => collect().parser.push(encodeFrame(type, Buffer.alloc(0))), H3_FRAME_ERROR, 'connection', `${name} empty`);
    throwsH3(t, () => collect().parser.push(encodeFrameHeader(type, 9)), H3_FRAME_ERROR, 'connection', `${name} with 9 bytes`);
    throwsH3(t, () => collect().parser.push(encodeFrame(type, Buffer.from([0x04, 0x00]))), H3_FRAME_ERROR, 'connection', `${name} with a trailing byte`);
    throwsH3(t, () => collect().parser.push(encodeFrame(type, Buffer.from([0x80, 0x00]))), H3_FRAME_ERROR, 'connection', `${name} with a cut varint`);
  }
  throwsH3(t, () => collect().parser.push(encodeFrame(FrameType.PUSH_PROMISE, Buffer.alloc(0))), H3_FRAME_ERROR, 'connection', 'PUSH_PROMISE without a push ID');
  throwsH3(t, () => collect().parser.push(encodeFrame(FrameType.SETTINGS, Buffer.from([0x06]))), H3_FRAME_ERROR, 'connection', 'SETTINGS cut inside a setting');
  throwsH3(t, () => collect().parser.push(encodeFrame(FrameType.SETTINGS, Buffer.from([0x02, 0x00]))), H3_SETTINGS_ERROR, 'connection', 'SETTINGS errors come through');
});

t.test('a stream that ends inside a frame is H3_FRAME_ERROR (§7.1)', async (t) => {
  const frame = encodeHeadersFrame(Buffer.from('0000d1', 'hex'));
  for (let cut = 1; cut < frame.length; cut++) {
    const { parser, events } = collect();
    parser.push(frame.subarray(0, cut));
    throwsH3(t, () => parser.end(), H3_FRAME_ERROR, 'connection', `cut after ${cut} bytes`);
    t.notOk(events.some((e) => 'end' in e));
  }
  const data = collect();
  data.parser.push(encodeDataFrame(Buffer.from('abc')).subarray(0, 4));
  throwsH3(t, () => data.parser.end(), H3_FRAME_ERROR, 'connection', 'inside a DATA payload');
  const skipped = collect();
  skipped.parser.push(encodeFrame(0x21, Buffer.from('abc')).subarray(0, 3));
  throwsH3(t, () => skipped.parser.end(), H3_FRAME_ERROR, 'connection', 'inside a skipped frame');
  const empty = collect();
  empty.parser.end();
  t.same(summary(empty.events), ['end'], 'an empty stream ends cleanly');
});

t.test('pause holds everything back until resume', async (t) => {
  const events: string[] = [];
  const parser: FrameParser = new FrameParser(
    {
      data: (chunk) => {
        events.push(`data:${chunk.toString()}`);
        parser.pause();
      },
      frame: (frame) => events.push(frame.kind),
      end: () => events.push('end'),
    },
    { maxFieldSectionFrameSize: 100 },
  );
  parser.push(Buffer.concat([encodeDataFrame(Buffer.from('one')), encodeDataFrame(Buffer.from('two')), encodeHeadersFrame(Buffer.from([0, 0]))]));
  parser.end();
  t.same(events, ['data:one'], 'paused after the first piece, even inside one chunk');
  t.ok(parser.paused);
  t.ok(parser.queuedBytes > 0, 'the rest is held');
  parser.resume();
  t.same(events, ['data:one', 'data:two']);
  parser.resume();
  t.same(events, ['data:one', 'data:two', 'headers', 'end'], 'end comes only after everything queued');
});

t.test('push after end is a programming error', async (t) => {
  const { parser } = collect();
  parser.end();
  t.throws(() => parser.push(Buffer.from([0])));
});
