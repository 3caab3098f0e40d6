/**
 * Category 6 (Autobahn 6.x, after Markus Kuhn's UTF-8 decoder stress test):
 * text messages must be valid UTF-8 (RFC 6455 §5.6, §8.1: otherwise _Fail the
 * WebSocket Connection_ with 1007).
 */
import { OP, bytes, concat, contFrame, fragmentMessage, hex, textFrame } from '../frames.js';
import type { CaseDef, Category } from '../case-types.js';
import { TEXT, echoCase, failCase } from './common.js';

const h = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const kosme = h('cebae1bdb9cf83cebcceb5'); // κόσμε

/** valid UTF-8 payloads (description, bytes) */
export const VALID_UTF8: Array<[string, Uint8Array]> = [
  ['ASCII with U+0024', bytes('hello$world')],
  ['U+00A2 (2 bytes)', h('68656c6c6f c2a2 776f726c64')],
  ['U+20AC (3 bytes)', h('68656c6c6f e282ac 776f726c64')],
  ['U+24B62 (4 bytes)', h('68656c6c6f f0a4ada2 776f726c64')],
  ['κόσμε', kosme],
  ['U+0000', h('00')],
  ['U+007F (last 1-byte)', h('7f')],
  ['U+0080 (first 2-byte)', h('c280')],
  ['U+07FF (last 2-byte)', h('dfbf')],
  ['U+0800 (first 3-byte)', h('e0a080')],
  ['U+D7FF (just below the surrogates)', h('ed9fbf')],
  ['U+E000 (just above the surrogates)', h('ee8080')],
  ['U+FFFD (replacement character)', h('efbfbd')],
  ['U+FFFE (non-character, valid UTF-8)', h('efbfbe')],
  ['U+FFFF (last 3-byte)', h('efbfbf')],
  ['U+10000 (first 4-byte)', h('f0908080')],
  ['U+1F600 emoji', bytes('😀')],
  ['U+10FFFF (last code point)', h('f48fbfbf')],
  ['U+FEFF byte order mark at the start is kept', h('efbbbf 68656c6c6f')],
  ['mixed scripts', bytes('Ünïcödé — 日本語 — עברית — 🎉')],
];

/** invalid UTF-8 payloads */
export const INVALID_UTF8: Array<[string, Uint8Array]> = [
  ['overlong "/" (c0 af)', h('c0af')],
  ['overlong "/" in 3 bytes', h('e080af')],
  ['overlong "/" in 4 bytes', h('f08080af')],
  ['maximum overlong 2-byte (c1 bf)', h('c1bf')],
  ['maximum overlong 3-byte (e0 9f bf)', h('e09fbf')],
  ['maximum overlong 4-byte (f0 8f bf bf)', h('f08fbfbf')],
  ['overlong NUL (c0 80)', h('c080')],
  ['overlong NUL in 3 bytes', h('e08080')],
  ['surrogate U+D800', h('eda080')],
  ['surrogate U+DB7F', h('edadbf')],
  ['surrogate U+DC00', h('edb080')],
  ['surrogate U+DFFF', h('edbfbf')],
  ['paired surrogates U+D800 U+DC00', h('eda080 edb080')],
  ['surrogate inside valid text', h('68656c6c6f eda080 776f726c64')],
  ['U+110000 (f4 90 80 80), above U+10FFFF', h('f4908080')],
  ['f7 bf bf bf (above U+10FFFF)', h('f7bfbfbf')],
  ['5-byte sequence f8 88 80 80 80', h('f888808080')],
  ['6-byte sequence fc 84 80 80 80 80', h('fc8480808080')],
  ['truncated 2-byte sequence at the end (c2)', h('68656c6c6f c2')],
  ['truncated 3-byte sequence at the end (e2 82)', h('68656c6c6f e282')],
  ['truncated 4-byte sequence at the end (f0 9f 98)', h('f09f98')],
  ['truncated 3-byte sequence in the middle', h('61 e282 62')],
  ['stray continuation byte 0x80', h('80')],
  ['stray continuation byte 0xbf', h('bf')],
  ['continuation bytes 80 bf 80', h('80bf80')],
  ['lonely start bytes separated by spaces', h('c020 c120 df20')],
  ['impossible byte 0xfe', h('fe')],
  ['impossible byte 0xff', h('ff')],
  ['impossible bytes fe fe ff ff', h('fefeffff')],
  ['κόσμε followed by U+110000', concat([kosme, h('f4908080'), bytes('edited')])],
];

/** Autobahn 6.2.1's message */
const HELLO_UTF8 = bytes('Hello-µ@ßöäüàá-UTF-8!!');
/** Autobahn 6.3.1 / 6.4.x: κόσμε, then U+110000 (f4 90 80 80), then "edited" */
const INVALID_PARTS = [kosme, h('f4908080'), bytes('edited')] as const;

/**
 * Autobahn 6.4.x: the server should fail the connection as soon as the text
 * is invalid, before the message is complete (RFC 6455 §8.1 "MUST _Fail the
 * WebSocket Connection_" when "the endpoint is to interpret" invalid UTF-8;
 * failing fast is the strict reading). Failing only once the final fragment
 * arrived is NON-STRICT, not failing at all is FAILED.
 */
function failFast(id: string, title: string, parts: readonly Uint8Array[], asChops: boolean): CaseDef {
  return {
    id,
    title,
    run: async (c) => {
      const s = await c.open();
      const [p1, p2, p3] = parts as [Uint8Array, Uint8Array, Uint8Array];
      if (asChops) {
        // one frame, its bytes in 3 chops: header + part 1, part 2, part 3
        const frame = textFrame(concat([p1, p2, p3]));
        const head = frame.length - p1.length - p2.length - p3.length;
        await s.send(frame.subarray(0, head + p1.length));
        await s.send(frame.subarray(head + p1.length, head + p1.length + p2.length));
        const closed = await s.closeWithin(c.env.timeoutMs / 2);
        if (closed) return void (await s.expectFail(1007));
        await s.send(frame.subarray(head + p1.length + p2.length));
      } else {
        await s.send(textFrame(p1, { fin: false }), contFrame(p2, { fin: false }));
        const closed = await s.closeWithin(c.env.timeoutMs / 2);
        if (closed) return void (await s.expectFail(1007));
        await s.send(contFrame(p3));
      }
      c.t.nonStrict('the server failed the connection only after the whole message arrived, not as soon as the text was invalid');
      await s.expectFail(1007);
    },
  };
}

/** Category 6 (Autobahn 6.1-6.4): UTF-8 handling of text messages (RFC 6455 §5.6, §8.1). */
export const utf8Category: Category = {
  id: '6',
  title: 'UTF-8 handling (Autobahn 6.x)',
  cases() {
    const out: CaseDef[] = [];
    out.push(echoCase('6.1.1', 'text message of length 0 → echoed', () => textFrame(''), TEXT, () => new Uint8Array(0)));
    out.push(echoCase('6.1.2', 'text message in 3 fragments of length 0 → empty text echoed', () => fragmentMessage(OP.TEXT, new Uint8Array(0), [0, 0, 0]), TEXT, () => new Uint8Array(0)));
    out.push(echoCase('6.1.3', 'text in 3 fragments, first and last empty → echoed', () => fragmentMessage(OP.TEXT, bytes('middle'), [0, 6, 0]), TEXT, () => bytes('middle')));
    out.push(echoCase('6.2.1', 'valid UTF-8 text in one fragment → echoed', () => textFrame(HELLO_UTF8), TEXT, () => HELLO_UTF8));
    out.push(
      echoCase('6.2.2', 'valid UTF-8 text in 2 fragments split at a code point boundary → echoed', () => fragmentMessage(OP.TEXT, HELLO_UTF8, [7, HELLO_UTF8.length - 7]), TEXT, () => HELLO_UTF8),
    );
    out.push(echoCase('6.2.3', 'valid UTF-8 text in 1-octet fragments (frames end inside code points) → echoed', () => fragmentMessage(OP.TEXT, HELLO_UTF8, 1), TEXT, () => HELLO_UTF8));
    out.push(echoCase('6.2.4', 'κόσμε in 1-octet fragments → echoed', () => fragmentMessage(OP.TEXT, kosme, 1), TEXT, () => kosme));
    const invalid = concat([...INVALID_PARTS]);
    out.push(failCase('6.3.1', 'invalid UTF-8 text (κόσμε U+110000 edited) unfragmented → close 1007', () => textFrame(invalid), 1007));
    out.push(failCase('6.3.2', 'the same invalid text in 1-octet fragments → close 1007', () => fragmentMessage(OP.TEXT, invalid, 1), 1007));
    const upToInvalid = [kosme, h('f490'), h('8080') ] as const;
    out.push(failFast('6.4.1', 'invalid text in 3 frames: the 2nd makes it invalid → close 1007 before the 3rd (fail fast)', [INVALID_PARTS[0], INVALID_PARTS[1], INVALID_PARTS[2]], false));
    out.push(failFast('6.4.2', 'as 6.4.1, the 2nd frame ends right after the invalid octet → close 1007 before the 3rd', [upToInvalid[0], upToInvalid[1], concat([upToInvalid[2], INVALID_PARTS[2]])], false));
    out.push(failFast('6.4.3', 'as 6.4.1, but 3 chops of ONE frame → close 1007 before the last chop', [INVALID_PARTS[0], INVALID_PARTS[1], INVALID_PARTS[2]], true));
    out.push(failFast('6.4.4', 'as 6.4.2, but 3 chops of ONE frame → close 1007 before the last chop', [upToInvalid[0], upToInvalid[1], concat([upToInvalid[2], INVALID_PARTS[2]])], true));
    return out;
  },
};

/**
 * Category 28 (ours, in the spirit of Autobahn 6.5-6.23, Markus Kuhn's UTF-8
 * decoder stress test): boundary code points, overlongs, surrogates, and
 * invalid text split across fragments.
 */
export const moreUtf8Category: Category = {
  id: '28',
  title: 'UTF-8 boundaries and malformations',
  cases(env) {
    const fragLimit = (n: number) =>
      env.maxFrames !== undefined && n > env.maxFrames ? `needs ${n} frames per message, limits.maxFrames is ${env.maxFrames}` : false;
    const out: CaseDef[] = [];
    VALID_UTF8.forEach(([name, data], i) => {
      out.push(echoCase(`28.1.${i + 1}`, `valid UTF-8 echoed: ${name} [${hex(data, 12)}]`, () => textFrame(data), TEXT, () => data));
    });
    INVALID_UTF8.forEach(([name, data], i) => {
      out.push(failCase(`28.2.${i + 1}`, `invalid UTF-8 → close 1007: ${name} [${hex(data, 12)}]`, () => textFrame(data), 1007));
    });
    const split4 = h('f09f9880 f09f9881'); // 😀😁
    out.push(echoCase('28.3.1', 'κόσμε split at code point boundaries → echoed', () => fragmentMessage(OP.TEXT, kosme, [2, 3, 2, 2, 2]), TEXT, () => kosme, { skip: fragLimit(5) }));
    out.push(echoCase('28.3.2', '4-byte code points split 1|3 and 2|2 across fragments → echoed', () => fragmentMessage(OP.TEXT, split4, [1, 5, 2]), TEXT, () => split4, { skip: fragLimit(3) }));
    out.push(echoCase('28.3.3', '3-byte code point split 2|1 across fragments → echoed', () => fragmentMessage(OP.TEXT, h('61 e282ac 62'), [3, 2]), TEXT, () => h('61e282ac62')));
    out.push(failCase('28.4.1', 'code point started in fragment 1, fragment 2 starts with a non-continuation byte → close 1007', () => fragmentMessage(OP.TEXT, h('61 e282 41 42'), [3, 2]), 1007));
    out.push(failCase('28.4.2', 'final fragment ends inside a code point → close 1007', () => fragmentMessage(OP.TEXT, h('61 62 f09f98'), [2, 3]), 1007));
    out.push(failCase('28.4.3', 'surrogate U+D800 split across fragments → close 1007', () => fragmentMessage(OP.TEXT, h('61 eda080 62'), [2, 3]), 1007));
    return out;
  },
};
