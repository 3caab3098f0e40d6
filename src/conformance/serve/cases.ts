/**
 * The client-mode cases: what the fuzzing server sends and what an echo client
 * must answer. Numbers and meanings follow Autobahn|Testsuite's fuzzingserver
 * (categories 1–7, all of 9 with Autobahn's sizes, 10, and 12 and 13 with fewer
 * messages); a driver echoes every message it receives with its type, as
 * Autobahn's drivers do. Pauses are kept short where Autobahn's only cost time
 * (pauses of 1 s become 100 ms); 9.x sizes and counts are Autobahn's, since
 * they are what those cases measure.
 */
import type { Expectation, Reply, ReplyKind, ServeCase, Step } from './case-types.js';
import { category12, category13 } from './deflate-cases.js';
import { OP, closeBody, serverFrame, toBytes, type ServerFrameSpec } from './frames.js';

export type { Expectation, Reply, ReplyKind, ServeCase, Step } from './case-types.js';

const frame = (spec: ServerFrameSpec): Buffer => serverFrame(spec);
const text = (payload: Uint8Array | string, o: Partial<ServerFrameSpec> = {}): Buffer => frame({ opcode: OP.TEXT, payload, ...o });
const binary = (payload: Uint8Array, o: Partial<ServerFrameSpec> = {}): Buffer => frame({ opcode: OP.BINARY, payload, ...o });
const cont = (payload: Uint8Array | string, o: Partial<ServerFrameSpec> = {}): Buffer => frame({ opcode: OP.CONT, payload, ...o });
const ping = (payload: Uint8Array | string = '', o: Partial<ServerFrameSpec> = {}): Buffer => frame({ opcode: OP.PING, payload, ...o });
const pong = (payload: Uint8Array | string = ''): Buffer => frame({ opcode: OP.PONG, payload });
const close = (code?: number, reason: Uint8Array | string = ''): Buffer => frame({ opcode: OP.CLOSE, payload: closeBody(code, reason) });

const reply = (kind: ReplyKind, data: Uint8Array | string): Reply => ({ kind, data: Buffer.from(toBytes(data)) });
/** All frames in one write. */
const oneWrite = (...frames: Buffer[]): Step[] => [{ bytes: Buffer.concat(frames) }];
/** Each frame in its own write. */
const frameWise = (...frames: Buffer[]): Step[] => frames.map((bytes) => ({ bytes }));
/** All frames as a byte stream written `chop` bytes at a time. */
const chopped = (chop: number, ...frames: Buffer[]): Step[] => [{ bytes: Buffer.concat(frames), chop }];
const echo = (...replies: Reply[]): Expectation => ({ by: 'server', replies });
/** RFC 6455 §7.4.1: 1002 for a protocol error. */
const failProtocol = (replies: Reply[] = [], mayCut = false): Expectation => ({ by: 'client', replies, codes: [1002], mayCut });
/** RFC 6455 §8.1: invalid UTF-8 in a text message fails the connection with 1007. */
const failUtf8: Expectation = { by: 'client', replies: [], codes: [1007] };

const HELLO = 'Hello, world!';
const stars = (n: number): string => '*'.repeat(n);
const fe = (n: number): Buffer => Buffer.alloc(n, 0xfe);
const LENGTHS = [0, 125, 126, 127, 128, 65535, 65536];

function category1(): ServeCase[] {
  const cases: ServeCase[] = [];
  LENGTHS.forEach((n, i) => {
    cases.push({ id: `1.1.${i + 1}`, description: `Send text message with payload of length ${n}.`, send: oneWrite(text(stars(n))), expect: echo(reply('text', stars(n))) });
  });
  cases.push({ id: '1.1.8', description: 'Send text message with payload of length 65536, sent in chops of 997 octets.', send: chopped(997, text(stars(65536))), expect: echo(reply('text', stars(65536))) });
  LENGTHS.forEach((n, i) => {
    cases.push({ id: `1.2.${i + 1}`, description: `Send binary message with payload of length ${n}.`, send: oneWrite(binary(fe(n))), expect: echo(reply('binary', fe(n))) });
  });
  cases.push({ id: '1.2.8', description: 'Send binary message with payload of length 65536, sent in chops of 997 octets.', send: chopped(997, binary(fe(65536))), expect: echo(reply('binary', fe(65536))) });
  return cases;
}

function category2(): ServeCase[] {
  const binaryPayload = Buffer.from([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff]);
  const tenPings = Array.from({ length: 10 }, (_, i) => `payload-${i}`);
  return [
    { id: '2.1', description: 'Send ping without payload.', send: oneWrite(ping()), expect: echo(reply('pong', '')) },
    { id: '2.2', description: 'Send ping with small text payload.', send: oneWrite(ping(HELLO)), expect: echo(reply('pong', HELLO)) },
    { id: '2.3', description: 'Send ping with small binary (non UTF-8) payload.', send: oneWrite(ping(binaryPayload)), expect: echo(reply('pong', binaryPayload)) },
    { id: '2.4', description: 'Send ping with binary payload of 125 octets.', send: oneWrite(ping(fe(125))), expect: echo(reply('pong', fe(125))) },
    // RFC 6455 §5.5: control frames carry at most 125 bytes.
    { id: '2.5', description: 'Send ping with binary payload of 126 octets.', send: oneWrite(ping(fe(126))), expect: failProtocol() },
    { id: '2.6', description: 'Send ping with binary payload of 125 octets, sent in octet-wise chops.', send: chopped(1, ping(fe(125))), expect: echo(reply('pong', fe(125))) },
    // RFC 6455 §5.5.3: an unsolicited pong is not answered.
    { id: '2.7', description: 'Send unsolicited pong without payload. Verify nothing is received.', send: oneWrite(pong()), expect: echo() },
    { id: '2.8', description: 'Send unsolicited pong with payload. Verify nothing is received.', send: oneWrite(pong('unsolicited pong payload')), expect: echo() },
    {
      id: '2.9',
      description: 'Send unsolicited pong with payload, then ping with payload. Verify pong for ping is received.',
      send: oneWrite(pong('unsolicited pong payload'), ping('ping payload')),
      expect: echo(reply('pong', 'ping payload')),
    },
    { id: '2.10', description: 'Send 10 pings with payload.', send: oneWrite(...tenPings.map((p) => ping(p))), expect: echo(...tenPings.map((p) => reply('pong', p))) },
    { id: '2.11', description: 'Send 10 pings with payload, sent in octet-wise chops.', send: chopped(1, ...tenPings.map((p) => ping(p))), expect: echo(...tenPings.map((p) => reply('pong', p))) },
  ];
}

function category3(): ServeCase[] {
  // RFC 6455 §5.2: a non-zero RSV bit without a negotiated meaning fails the connection.
  const echoThenFail = failProtocol([reply('text', HELLO)], true);
  return [
    { id: '3.1', description: 'Send small text message with RSV = 1.', send: oneWrite(text(HELLO, { rsv: 1 })), expect: failProtocol() },
    { id: '3.2', description: 'Send small text message, then another with RSV = 2, then ping.', send: oneWrite(text(HELLO), text(HELLO, { rsv: 2 }), ping(HELLO)), expect: echoThenFail },
    { id: '3.3', description: 'Send small text message, then another with RSV = 3, then ping, frame-wise.', send: frameWise(text(HELLO), text(HELLO, { rsv: 3 }), ping(HELLO)), expect: echoThenFail },
    { id: '3.4', description: 'Send small text message, then another with RSV = 4, then ping, octet-wise.', send: chopped(1, text(HELLO), text(HELLO, { rsv: 4 }), ping(HELLO)), expect: echoThenFail },
    { id: '3.5', description: 'Send small binary message with RSV = 5.', send: oneWrite(binary(Buffer.from([0, 1, 2, 3, 4, 5, 6, 7]), { rsv: 5 })), expect: failProtocol() },
    { id: '3.6', description: 'Send ping with RSV = 6.', send: oneWrite(ping(HELLO, { rsv: 6 })), expect: failProtocol() },
    { id: '3.7', description: 'Send close with RSV = 7.', send: oneWrite(frame({ opcode: OP.CLOSE, payload: closeBody(1000), rsv: 7 })), expect: failProtocol() },
  ];
}

function category4(): ServeCase[] {
  // RFC 6455 §5.2: reserved opcodes (3–7 non-control, 11–15 control) fail the connection.
  const cases: ServeCase[] = [];
  const group = (sub: number, first: number): void => {
    const kind = sub === 1 ? 'non-control' : 'control';
    const payload = 'reserved opcode payload';
    const echoThenFail = failProtocol([reply('text', HELLO)], true);
    cases.push(
      { id: `4.${sub}.1`, description: `Send frame with reserved ${kind} opcode = ${first}.`, send: oneWrite(frame({ opcode: first })), expect: failProtocol() },
      { id: `4.${sub}.2`, description: `Send frame with reserved ${kind} opcode = ${first + 1} and non-empty payload.`, send: oneWrite(frame({ opcode: first + 1, payload })), expect: failProtocol() },
      {
        id: `4.${sub}.3`,
        description: `Send small text message, then frame with reserved ${kind} opcode = ${first + 2}, then ping.`,
        send: oneWrite(text(HELLO), frame({ opcode: first + 2 }), ping(HELLO)),
        expect: echoThenFail,
      },
      {
        id: `4.${sub}.4`,
        description: `Send small text message, then frame with reserved ${kind} opcode = ${first + 3} and non-empty payload, then ping.`,
        send: frameWise(text(HELLO), frame({ opcode: first + 3, payload }), ping(HELLO)),
        expect: echoThenFail,
      },
      {
        id: `4.${sub}.5`,
        description: `Send small text message, then frame with reserved ${kind} opcode = ${first + 4} and non-empty payload, then ping, octet-wise.`,
        send: chopped(1, text(HELLO), frame({ opcode: first + 4, payload }), ping(HELLO)),
        expect: echoThenFail,
      },
    );
  };
  group(1, 3);
  group(2, 11);
  return cases;
}

function category5(): ServeCase[] {
  const f1 = 'fragment1';
  const f2 = 'fragment2';
  const twoFragments = [text(f1, { fin: false }), cont(f2)];
  const withPing = [text(f1, { fin: false }), ping('ping payload'), cont(f2)];
  const joined = reply('text', f1 + f2);
  const nothingToContinue = (fin: boolean): Buffer[] => [cont('non-continuation payload', { fin }), text(HELLO)];
  const misordered = (firstFin: boolean): Buffer[] => {
    const round = [cont(f1, { fin: firstFin }), text(f2, { fin: false }), cont('fragment3')];
    return [...round, ...round];
  };
  const fiveWithPings: Step[] = [
    { bytes: text('fragment1', { fin: false }) },
    { bytes: cont('fragment2', { fin: false }) },
    { bytes: ping('pongme 1!') },
    { pauseMs: 100 },
    { bytes: cont('fragment3', { fin: false }) },
    { pauseMs: 100 },
    { bytes: cont('fragment4', { fin: false }) },
    { bytes: ping('pongme 2!') },
    { pauseMs: 100 },
    { bytes: cont('fragment5') },
  ];
  const fiveReplies = [reply('pong', 'pongme 1!'), reply('pong', 'pongme 2!'), reply('text', 'fragment1fragment2fragment3fragment4fragment5')];
  return [
    // RFC 6455 §5.4: control frames must not be fragmented.
    { id: '5.1', description: 'Send ping fragmented into 2 fragments.', send: oneWrite(ping(f1, { fin: false }), cont(f2)), expect: failProtocol() },
    { id: '5.2', description: 'Send pong fragmented into 2 fragments.', send: oneWrite(frame({ opcode: OP.PONG, payload: f1, fin: false }), cont(f2)), expect: failProtocol() },
    { id: '5.3', description: 'Send text message fragmented into 2 fragments.', send: oneWrite(...twoFragments), expect: echo(joined) },
    { id: '5.4', description: 'Send text message fragmented into 2 fragments, frame-wise.', send: frameWise(...twoFragments), expect: echo(joined) },
    { id: '5.5', description: 'Send text message fragmented into 2 fragments, octet-wise.', send: chopped(1, ...twoFragments), expect: echo(joined) },
    // RFC 6455 §5.4: control frames may be injected between fragments.
    { id: '5.6', description: 'Send text message fragmented into 2 fragments, one ping with payload in-between.', send: oneWrite(...withPing), expect: echo(reply('pong', 'ping payload'), joined) },
    { id: '5.7', description: 'Same as 5.6, frame-wise.', send: frameWise(...withPing), expect: echo(reply('pong', 'ping payload'), joined) },
    { id: '5.8', description: 'Same as 5.6, octet-wise.', send: chopped(1, ...withPing), expect: echo(reply('pong', 'ping payload'), joined) },
    { id: '5.9', description: 'Send unfragmented text message after continuation frame with FIN = true, where there is nothing to continue.', send: oneWrite(...nothingToContinue(true)), expect: failProtocol() },
    { id: '5.10', description: 'Same as 5.9, frame-wise.', send: frameWise(...nothingToContinue(true)), expect: failProtocol() },
    { id: '5.11', description: 'Same as 5.9, octet-wise.', send: chopped(1, ...nothingToContinue(true)), expect: failProtocol() },
    { id: '5.12', description: 'Send unfragmented text message after continuation frame with FIN = false, where there is nothing to continue.', send: oneWrite(...nothingToContinue(false)), expect: failProtocol() },
    { id: '5.13', description: 'Same as 5.12, frame-wise.', send: frameWise(...nothingToContinue(false)), expect: failProtocol() },
    { id: '5.14', description: 'Same as 5.12, octet-wise.', send: chopped(1, ...nothingToContinue(false)), expect: failProtocol() },
    {
      id: '5.15',
      description: 'Send text message fragmented into 2 fragments, then continuation frame with FIN = false where there is nothing to continue, then text fragment with FIN = true.',
      send: oneWrite(text(f1, { fin: false }), cont(f2), cont('fragment3', { fin: false }), text('fragment4')),
      expect: failProtocol([joined], true),
    },
    { id: '5.16', description: 'Send text message fragmented into 3 fragments, first and last are continuation frames (twice).', send: oneWrite(...misordered(false)), expect: failProtocol() },
    { id: '5.17', description: 'Same as 5.16, with FIN = true on the first continuation frame.', send: oneWrite(...misordered(true)), expect: failProtocol() },
    { id: '5.18', description: 'Send text message fragmented into 2 fragments, both text frames (no continuation).', send: oneWrite(text(f1, { fin: false }), text(f2)), expect: failProtocol() },
    { id: '5.19', description: 'Send text message fragmented into 5 fragments, with 2 pings in-between, with pauses.', send: fiveWithPings, expect: echo(...fiveReplies) },
    {
      id: '5.20',
      description: 'Same as 5.19, each frame octet-wise.',
      send: fiveWithPings.map((step) => ('bytes' in step ? { bytes: step.bytes, chop: 1 } : step)),
      expect: echo(...fiveReplies),
    },
  ];
}

function category6(): ServeCase[] {
  const valid = Buffer.from('Hello-µ@ßöäüàá-UTF-8!!', 'utf8');
  const kosme = Buffer.from('cebae1bdb9cf83cebcceb5', 'hex');
  // κόσμε followed by an encoded UTF-16 surrogate (ED A0 80): invalid (RFC 3629 §3).
  const kosmeEdited = Buffer.from('cebae1bdb9cf83cebcceb5eda080656469746564', 'hex');
  const octetWise = (data: Buffer): Buffer[] => [...data].map((byte, i) => (i === 0 ? text(Buffer.from([byte]), { fin: data.length === 1 }) : cont(Buffer.from([byte]), { fin: i === data.length - 1 })));
  const byCodePoint = [...valid.toString('utf8')].map((ch, i, all) => {
    const bytes = Buffer.from(ch, 'utf8');
    return i === 0 ? text(bytes, { fin: false }) : cont(bytes, { fin: i === all.length - 1 });
  });
  return [
    { id: '6.1.1', description: 'Send text message of length 0.', send: oneWrite(text('')), expect: echo(reply('text', '')) },
    { id: '6.1.2', description: 'Send fragmented text message, 3 fragments each of length 0.', send: oneWrite(text('', { fin: false }), cont('', { fin: false }), cont('')), expect: echo(reply('text', '')) },
    {
      id: '6.1.3',
      description: 'Send fragmented text message, 3 fragments, first and last of length 0, middle non-empty.',
      send: oneWrite(text('', { fin: false }), cont('middle frame payload', { fin: false }), cont('')),
      expect: echo(reply('text', 'middle frame payload')),
    },
    { id: '6.2.1', description: 'Send a valid UTF-8 text message in one fragment.', send: oneWrite(text(valid)), expect: echo(reply('text', valid)) },
    { id: '6.2.2', description: 'Send a valid UTF-8 text message in fragments split at code-point boundaries.', send: oneWrite(...byCodePoint), expect: echo(reply('text', valid)) },
    { id: '6.2.3', description: 'Send a valid UTF-8 text message in fragments of 1 octet.', send: oneWrite(...octetWise(valid)), expect: echo(reply('text', valid)) },
    { id: '6.2.4', description: 'Send a valid UTF-8 text message (κόσμε) in fragments of 1 octet.', send: oneWrite(...octetWise(kosme)), expect: echo(reply('text', kosme)) },
    { id: '6.3.1', description: 'Send invalid UTF-8 text message unfragmented.', send: oneWrite(text(kosmeEdited)), expect: failUtf8 },
    { id: '6.3.2', description: 'Send invalid UTF-8 text message in fragments of 1 octet.', send: oneWrite(...octetWise(kosmeEdited)), expect: failUtf8 },
    ...failFastCases(kosme),
    ...utf8Sequences(),
  ];
}

/**
 * Autobahn's 6.4.x: an invalid text message in three parts with pauses; the
 * part in the middle makes it invalid (U+110000 as F4 90 80 80), and a client
 * that validates as it reads fails before the third (RFC 6455 §8.1 allows
 * failing later: NON-STRICT). Parts are frames (6.4.1–2) or chops of one frame
 * (6.4.3–4); 6.4.2 and 6.4.4 cut the second part right after the invalid octet.
 */
function failFastCases(kosme: Buffer): ServeCase[] {
  const pauseMs = 100;
  const variants: Array<[string, Buffer, Buffer]> = [
    ['', Buffer.from('f4908080', 'hex'), Buffer.from('edited')],
    [' The 2nd part ends with the octet that makes the payload invalid.', Buffer.from('f490', 'hex'), Buffer.from('8080656469746564', 'hex')],
  ];
  const asFrames = ([, part2, part3]: [string, Buffer, Buffer]): Step[] => [
    { bytes: text(kosme, { fin: false }) },
    { pauseMs },
    { bytes: cont(part2, { fin: false }) },
    { pauseMs },
    { bytes: cont(part3) },
  ];
  const asChops = ([, part2, part3]: [string, Buffer, Buffer]): Step[] => {
    const whole = text(Buffer.concat([kosme, part2, part3]));
    const headerLength = whole.length - kosme.length - part2.length - part3.length;
    const cut1 = headerLength + kosme.length;
    const cut2 = cut1 + part2.length;
    return [{ bytes: whole.subarray(0, cut1) }, { pauseMs }, { bytes: whole.subarray(cut1, cut2) }, { pauseMs }, { bytes: whole.subarray(cut2) }];
  };
  const make = (id: string, how: string, steps: Step[], note: string): ServeCase => ({
    id,
    description: `Send invalid UTF-8 text message in 3 ${how}, pausing between them; the 2nd makes it invalid.${note}`,
    send: steps,
    expect: failUtf8,
    failFast: true,
  });
  return [
    make('6.4.1', 'fragments (frames)', asFrames(variants[0]!), variants[0]![0]),
    make('6.4.2', 'fragments (frames)', asFrames(variants[1]!), variants[1]![0]),
    make('6.4.3', 'chops of one frame', asChops(variants[0]!), variants[0]![0]),
    make('6.4.4', 'chops of one frame', asChops(variants[1]!), variants[1]![0]),
  ];
}

/**
 * Autobahn's 6.5–6.23: one text message per sequence of Markus Kuhn's UTF-8
 * decoder test (valid: echoed; invalid: the connection fails with 1007,
 * RFC 6455 §8.1), in Autobahn's order, so 6.x.y is Autobahn's 6.x.y.
 */
function utf8Sequences(): ServeCase[] {
  const h = (hexText: string): Buffer => Buffer.from(hexText.replace(/ /g, ''), 'hex');
  const kosme = 'cebae1bdb9cf83cebcceb5';
  // Code-point boundaries of κόσμε: a prefix is valid only when it ends on one.
  const kosmeBoundaries = new Set([2, 5, 7, 9, 11]);
  const range = (from: number, to: number, after = ''): Buffer => h(Array.from({ length: to - from }, (_, i) => (from + i).toString(16) + after).join(''));
  const missingLast = ['c0', 'e080', 'f08080', 'f8808080', 'fc80808080', 'df', 'efbf', 'f7bfbf', 'fbbfbfbf', 'fdbfbfbfbf'];
  const nonCharacters: string[] = ['efbfbe', 'efbfbf'];
  for (const z1 of ['f0', 'f1', 'f2', 'f3', 'f4']) {
    for (const z2 of ['8f', '9f', 'af', 'bf']) {
      if (z1 === 'f4' && z2 !== '8f') continue; // beyond U+10FFFF
      for (const z3 of ['be', 'bf']) if (!(z1 === 'f0' && z2 === '8f')) nonCharacters.push(z1 + z2 + 'bf' + z3); // f08fbfbx is overlong
    }
  }
  const groups: Array<Array<[boolean, Buffer]>> = [
    [[true, h('68656c6c6f24776f726c64')], [true, h('68656c6c6fc2a2776f726c64')], [true, h('68656c6c6fe282ac776f726c64')], [true, h('68656c6c6ff0a4ada2776f726c64')], [true, h(kosme)]],
    Array.from({ length: 11 }, (_, i) => [kosmeBoundaries.has(i + 1), h(kosme).subarray(0, i + 1)]),
    [[true, h('00')], [true, h('c280')], [true, h('e0a080')], [true, h('f0908080')]],
    [[false, h('f888808080')], [false, h('fc8480808080')]],
    [[true, h('7f')], [true, h('dfbf')], [true, h('efbfbf')], [true, h('f48fbfbf')]],
    [[false, h('f7bfbfbf')], [false, h('fbbfbfbfbf')], [false, h('fdbfbfbfbfbf')]],
    [[true, h('ed9fbf')], [true, h('ee8080')], [true, h('efbfbd')], [true, h('f48fbfbf')], [false, h('f4908080')]],
    [[false, h('80')], [false, h('bf')], [false, h('80bf')], [false, h('80bf80')], [false, h('80bf80bf')], [false, h('80bf80bf80')], [false, h('80bf80bf80bf')], [false, range(0x80, 0xbf)]],
    [[false, range(0xc0, 0xdf, '20')], [false, range(0xe0, 0xef, '20')], [false, range(0xf0, 0xf7, '20')], [false, range(0xf8, 0xfb, '20')], [false, range(0xfc, 0xfd, '20')]],
    missingLast.map((x) => [false, h(x)]),
    [[false, h(missingLast.join(''))]],
    [[false, h('fe')], [false, h('ff')], [false, h('fefeffff')]],
    ['c0af', 'e080af', 'f08080af', 'f8808080af', 'fc80808080af'].map((x) => [false, h(x)]),
    ['c1bf', 'e09fbf', 'f08fbfbf', 'f887bfbfbf', 'fc83bfbfbfbf'].map((x) => [false, h(x)]),
    ['c080', 'e08080', 'f0808080', 'f880808080', 'fc8080808080'].map((x) => [false, h(x)]),
    ['eda080', 'edadbf', 'edae80', 'edafbf', 'edb080', 'edbe80', 'edbfbf'].map((x) => [false, h(x)]),
    ['eda080edb080', 'eda080edbfbf', 'edadbfedb080', 'edadbfedbfbf', 'edae80edb080', 'edae80edbfbf', 'edafbfedb080', 'edafbfedbfbf'].map((x) => [false, h(x)]),
    nonCharacters.map((x) => [true, h(x)]),
    ['efbfb9', 'efbfba', 'efbfbb', 'efbfbc', 'efbfbd', 'efbfbe', 'efbfbf'].map((x) => [true, h(x)]),
  ];
  return groups.flatMap((group, g) =>
    group.map(([valid, payload], i) => ({
      id: `6.${g + 5}.${i + 1}`,
      description: `Send a text message with payload which is ${valid ? '' : 'not '}valid UTF-8 in one fragment. Payload: 0x${payload.toString('hex')}`,
      send: oneWrite(text(payload)),
      expect: valid ? echo(reply('text', payload)) : failUtf8,
    })),
  );
}

function category7(): ServeCase[] {
  const normal = [1000];
  const validCodes = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999];
  // RFC 6455 §7.4.1/§7.4.2: never sent on the wire, unassigned, or reserved.
  const invalidCodes = [0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999];
  const kosmeEdited = Buffer.from('cebae1bdb9cf83cebcceb5eda080656469746564', 'hex');
  const answers = (codes: Array<number | null>, replies: Reply[] = []): Expectation => ({ by: 'client', replies, codes, clean: true });
  const big716 = 'BAsd7&jh23'.repeat(256 * 1024 / 10 + 1).slice(0, 256 * 1024);
  // Autobahn's 7.1.1 sends no close of its own: the echo comes first, then the server closes.
  const first: ServeCase = { id: '7.1.1', description: 'Send a message followed by a close frame.', send: oneWrite(text('Hello World!')), expect: echo(reply('text', 'Hello World!')) };
  const cases: ServeCase[] = [
    // RFC 6455 §5.5.1: after a close frame the peer sends no more data.
    { id: '7.1.2', description: 'Send two close frames.', send: oneWrite(close(1000), close(1000)), expect: answers(normal) },
    { id: '7.1.3', description: 'Send a ping after close message.', send: oneWrite(close(1000), ping()), expect: answers(normal) },
    { id: '7.1.4', description: 'Send text message after sending a close frame.', send: oneWrite(close(1000), text('Hello World')), expect: answers(normal) },
    {
      id: '7.1.5',
      description: 'Send message fragment 1, then close, then the final fragment.',
      send: oneWrite(text('fragment1', { fin: false }), close(1000), cont('fragment2')),
      expect: answers(normal),
    },
    {
      // Whether the echoes come before the close depends on the client's close behaviour: INFORMATIONAL.
      id: '7.1.6',
      description: 'Send 256K message followed by close then a ping.',
      send: oneWrite(text(big716), text('Hello World!'), close(1000), ping()),
      expect: { by: 'client', replies: [reply('text', big716), reply('text', 'Hello World!')], codes: normal, clean: true, mayCut: true },
      informational: true,
    },
    // RFC 6455 §5.5.1: a close frame's body is empty or starts with a 2-byte code.
    { id: '7.3.1', description: 'Send close with payload length 0 (no close code, no close reason).', send: oneWrite(close()), expect: answers([null, 1000]) },
    { id: '7.3.2', description: 'Send close with payload length 1.', send: oneWrite(frame({ opcode: OP.CLOSE, payload: 'a' })), expect: failProtocol() },
    { id: '7.3.3', description: 'Send close with payload length 2 (regular close with a code).', send: oneWrite(close(1000)), expect: answers(normal) },
    { id: '7.3.4', description: 'Send close with close code and close reason.', send: oneWrite(close(1000, 'Hello World!')), expect: answers(normal) },
    { id: '7.3.5', description: 'Send close with close code and close reason of maximum length (123).', send: oneWrite(close(1000, stars(123))), expect: answers(normal) },
    { id: '7.3.6', description: 'Send close with close code and close reason which is too long (124).', send: oneWrite(close(1000, stars(124))), expect: failProtocol() },
    // RFC 6455 §5.5.1 + §8.1: the reason is UTF-8; Autobahn accepts 1002 or 1007.
    { id: '7.5.1', description: 'Send close with invalid UTF-8 payload.', send: oneWrite(close(1000, kosmeEdited)), expect: { by: 'client', replies: [], codes: [1002, 1007] } },
  ];
  validCodes.forEach((code, i) => {
    // Autobahn: "clean close with normal or echoed code" (RFC 6455 §5.5.1 "typically echoing").
    cases.push({ id: `7.7.${i + 1}`, description: `Send close with valid close code ${code}.`, send: oneWrite(close(code)), expect: answers([...new Set([1000, code])]) });
  });
  invalidCodes.forEach((code, i) => {
    cases.push({ id: `7.9.${i + 1}`, description: `Send close with invalid close code ${code}.`, send: oneWrite(close(code)), expect: failProtocol() });
  });
  [5000, 65535].forEach((code, i) => {
    cases.push({ id: `7.13.${i + 1}`, description: `Send close with close code ${code}.`, send: oneWrite(close(code)), expect: { by: 'client', replies: [], codes: [1000, code, 1002] }, informational: true });
  });
  // Every case of category 7 after 7.1.1 sends a close frame of the server's.
  return [first, ...cases.map((c) => ({ ...c, serverCloses: true }))];
}

const KiB = 1024;
const MiB = 1024 * KiB;
/** The largest 9.x message (9.1.6, 9.2.6): every 9.x payload is a view of one buffer of this size per kind. */
const PERF_MAX = 16 * MiB;
const perfPayloads: Partial<Record<'text' | 'binary', Buffer>> = {};

/**
 * A 9.x message: Autobahn's text pattern or 0xfe bytes, a view of one shared
 * 16 MiB buffer per kind, allocated when a 9.x case first runs, so the case
 * table costs nothing until then and no case holds a copy of its own.
 */
function perfMessage(kind: 'text' | 'binary', size: number): Reply {
  return {
    kind,
    get data(): Buffer {
      return (perfPayloads[kind] ??= Buffer.alloc(PERF_MAX, kind === 'text' ? 'BAsd7&jh23' : 0xfe)).subarray(0, size);
    },
  };
}

const sizeLabel = (n: number): string => (n >= MiB ? `${n / MiB}M` : n >= KiB ? `${n / KiB}k` : `${n}`);
/**
 * Deadlines: Autobahn waits 100 s for 9.1–9.4, 1000 s for 9.5–9.6 and 60 s for
 * 9.7–9.8; here 10 s plus 2 s per MiB each way (74 s for 16 MiB), and 60 s for
 * the round trips: generous on a slow machine or over QUIC, yet a stalled
 * client fails its case instead of holding the run.
 */
const perfDeadline = (bytes: number): number => 10_000 + Math.ceil((2 * bytes) / MiB) * 2_000;
const ROUND_TRIPS = 1000;
const ROUND_TRIPS_DEADLINE = 60_000;

/**
 * Autobahn's 9.x with its numbers, sizes and meanings: one big message
 * (9.1, 9.2), a 4 MiB message in fragments (9.3, 9.4), a 1 MiB message
 * written in chops (9.5, 9.6), 1000 round trips (9.7, 9.8). Each is echoed
 * and timed.
 */
function category9(): ServeCase[] {
  const cases: ServeCase[] = [];
  const add = (id: string, description: string, send: Step[], replies: Reply[], timeoutMs: number): void => {
    cases.push({ id, description, send, expect: echo(...replies), timed: true, timeoutMs });
  };
  const kinds = [
    [1, 'text'],
    [2, 'binary'],
  ] as const;
  for (const [sub, kind] of kinds) {
    [64 * KiB, 256 * KiB, MiB, 4 * MiB, 8 * MiB, PERF_MAX].forEach((n, i) => {
      const message = perfMessage(kind, n);
      add(`9.${sub}.${i + 1}`, `Send ${kind} message message with payload of length ${sizeLabel(n)}.`, [{ message }], [message], perfDeadline(n));
    });
  }
  for (const [sub, kind] of kinds) {
    [64, 256, KiB, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, MiB, 4 * MiB].forEach((fragment, i) => {
      const message = perfMessage(kind, 4 * MiB);
      add(`9.${sub + 2}.${i + 1}`, `Send fragmented ${kind} message message with message payload of length 4M. Sent out in fragments of ${sizeLabel(fragment)}.`, [{ message, fragment }], [message], perfDeadline(4 * MiB));
    });
  }
  for (const [sub, kind] of kinds) {
    [64, 128, 256, 512, 1024, 2048].forEach((chop, i) => {
      const message = perfMessage(kind, MiB);
      add(`9.${sub + 4}.${i + 1}`, `Send ${kind} message message with payload of length 1M. Sent out data in chops of ${chop} octets.`, [{ message, chop }], [message], perfDeadline(MiB));
    });
  }
  for (const [sub, kind] of kinds) {
    [0, 16, 64, 256, KiB, 4 * KiB].forEach((n, i) => {
      const message = perfMessage(kind, n);
      // Round trips, not a stream: each message goes out once the previous echo came back.
      const send = Array.from({ length: ROUND_TRIPS }, (_, k): Step[] => [{ message }, { untilReplies: k + 1 }]).flat();
      add(`9.${sub + 6}.${i + 1}`, `Send ${ROUND_TRIPS} ${kind} messages of payload size ${n} to measure implementation/network RTT (round trip time) / latency.`, send, new Array<Reply>(ROUND_TRIPS).fill(message), ROUND_TRIPS_DEADLINE);
    });
  }
  return cases;
}

function category10(): ServeCase[] {
  const payload = stars(65536);
  const frames: Buffer[] = [];
  for (let at = 0; at < payload.length; at += 1300) {
    const part = payload.slice(at, at + 1300);
    const last = at + 1300 >= payload.length;
    frames.push(at === 0 ? text(part, { fin: last }) : cont(part, { fin: last }));
  }
  return [{ id: '10.1.1', description: 'Send text message with payload of length 65536 auto-fragmented with autoFragmentSize = 1300.', send: oneWrite(...frames), expect: echo(reply('text', payload)) }];
}

/** Every case, in the order /runCase numbers them (1-based). */
export const SERVE_CASES: readonly ServeCase[] = [...category1(), ...category2(), ...category3(), ...category4(), ...category5(), ...category6(), ...category7(), ...category9(), ...category10(), ...category12(), ...category13()];

/** Autobahn's case patterns: "1.*", "9.1.1", comma-separated lists. */
export function selectCases(patterns: string | undefined): ServeCase[] {
  if (patterns === undefined || patterns.trim() === '') return [...SERVE_CASES];
  const matchers = patterns.split(',').map((pattern) => {
    const escaped = pattern.trim().replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
    return new RegExp(`^${escaped}$`);
  });
  return SERVE_CASES.filter((c) => matchers.some((m) => m.test(c.id)));
}
