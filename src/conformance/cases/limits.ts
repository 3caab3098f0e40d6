/**
 * Category 8 (limits), 9 (protocol details: masking and length encoding) and
 * 10 (Autobahn 10.x: auto-fragmentation).
 */
import {
  OP,
  binaryFrame,
  buildFrame,
  bytes,
  concat,
  fragmentMessage,
  pingFrame,
  prng,
  textFrame,
} from '../frames.js';
import type { CaseDef, CaseEnv, Category } from '../case-types.js';
import { BINARY, TEXT, echoCase, failCase, payloadFor } from './common.js';

// ---------------------------------------------------------------------------
// 8 Limits
// ---------------------------------------------------------------------------

const limits: Category = {
  id: '30',
  title: 'Declared limits (maxMessageSize, maxFrames)',
  cases(env) {
    const max = env.maxMessageSize;
    const fragLimit = (n: number) =>
      env.maxFrames !== undefined && n > env.maxFrames ? `needs ${n} frames per message, limits.maxFrames is ${env.maxFrames}` : false;
    const quarterSizes = (n: number) => {
      const q = Math.floor(n / 4);
      return [q, q, q, n - 3 * q];
    };
    const out: CaseDef[] = [
      echoCase(`30.1`, `binary message of exactly maxMessageSize (${max}) bytes in one frame is echoed`, () => binaryFrame(payloadFor(BINARY, max)), BINARY, () => payloadFor(BINARY, max), {
        timeoutFactor: 5,
      }),
      echoCase(`30.2`, `text message of exactly maxMessageSize (${max}) bytes in one frame is echoed`, () => textFrame(payloadFor(TEXT, max)), TEXT, () => payloadFor(TEXT, max), {
        timeoutFactor: 5,
      }),
      echoCase(
        `30.3`,
        `binary message of exactly maxMessageSize bytes in 4 fragments is echoed`,
        () => fragmentMessage(OP.BINARY, payloadFor(BINARY, max), quarterSizes(max)),
        BINARY,
        () => payloadFor(BINARY, max),
        { skip: fragLimit(4), timeoutFactor: 5 },
      ),
      failCase(`30.4`, `binary message of maxMessageSize + 1 bytes in one frame → close 1009`, () => binaryFrame(payloadFor(BINARY, max + 1)), 1009),
      failCase(`30.5`, `text message of maxMessageSize + 1 bytes in one frame → close 1009`, () => textFrame(payloadFor(TEXT, max + 1)), 1009),
      failCase(
        `30.6`,
        `binary message of maxMessageSize + 1 bytes as 4 fragments (each below the limit) → close 1009`,
        () => fragmentMessage(OP.BINARY, payloadFor(BINARY, max + 1), quarterSizes(max + 1)),
        1009,
        { skip: fragLimit(4) },
      ),
      failCase(
        `30.7`,
        `frame header announcing maxMessageSize + 1 bytes, payload never sent → close 1009 promptly`,
        () => buildFrame({ opcode: OP.BINARY, declaredLength: max + 1, headerOnly: true }),
        1009,
      ),
      failCase(
        `30.8`,
        'frame header announcing 2^40 bytes (64-bit length), payload never sent → close 1009 promptly',
        () => buildFrame({ opcode: OP.BINARY, declaredLength: 2n ** 40n, headerOnly: true }),
        1009,
      ),
      failCase(
        `30.9`,
        'text frame header announcing 2^31 bytes, payload never sent → close 1009 promptly',
        () => buildFrame({ opcode: OP.TEXT, declaredLength: 2 ** 31, headerOnly: true }),
        1009,
      ),
      failCase(
        `30.10`,
        'first fragment of maxMessageSize/2 bytes, then a continuation header that crosses the limit (payload never sent) → close 1009 promptly',
        () => {
          const half = Math.floor(max / 2);
          return [
            binaryFrame(payloadFor(BINARY, half), { fin: false }),
            buildFrame({ opcode: OP.CONT, declaredLength: max - half + 1, headerOnly: true }),
          ];
        },
        1009,
        { skip: fragLimit(2) },
      ),
    ];
    const mf = env.maxFrames;
    const noFrameLimit = mf === undefined ? 'the target declares no limits.maxFrames' : false;
    out.push(
      echoCase(
        '30.11',
        `text message in exactly maxFrames (${mf ?? 'n/a'}) fragments is echoed`,
        () => fragmentMessage(OP.TEXT, payloadFor(TEXT, mf ?? 1), 1),
        TEXT,
        () => payloadFor(TEXT, mf ?? 1),
        { skip: noFrameLimit },
      ),
    );
    out.push(
      failCase(
        '30.12',
        `text message in maxFrames + 1 (${mf === undefined ? 'n/a' : mf + 1}) fragments → close ${env.tooManyFramesCloseCode}`,
        () => fragmentMessage(OP.TEXT, payloadFor(TEXT, (mf ?? 1) + 1), 1),
        env.tooManyFramesCloseCode,
        { skip: noFrameLimit },
      ),
    );
    out.push(
      failCase(
        '30.13',
        `maxFrames + 1 EMPTY fragments → close ${env.tooManyFramesCloseCode} (empty frames count too)`,
        () => fragmentMessage(OP.BINARY, new Uint8Array(0), new Array<number>((mf ?? 1) + 1).fill(0)),
        env.tooManyFramesCloseCode,
        { skip: noFrameLimit },
      ),
    );
    // without declared limits the sizes above are guesses: report the cases as not run
    return env.limitsDeclared ? out : out.map((c) => ({ ...c, skip: 'the server\'s limits were not declared (--max-message-size, --max-frames)' }));
  },
};

// ---------------------------------------------------------------------------
// 9 Protocol details: masking and length encoding
// ---------------------------------------------------------------------------

const details: Category = {
  id: '31',
  title: 'Masking and length encoding (RFC 6455 §5.1, §5.2)',
  cases() {
    const p100 = () => payloadFor(TEXT, 100);
    return [
      failCase('31.1.1', 'unmasked text frame → close 1002 (RFC 6455 §5.1)', () => textFrame('Hello', { mask: false }), 1002),
      failCase('31.1.2', 'unmasked ping → close 1002', () => pingFrame('Hello', { mask: false }), 1002),
      failCase('31.1.3', 'unmasked empty binary frame → close 1002', () => binaryFrame([], { mask: false }), 1002),
      failCase('31.1.4', 'unmasked continuation inside a masked fragmented message → close 1002', () => [
        textFrame('masked', { fin: false }),
        buildFrame({ opcode: OP.CONT, payload: 'unmasked', mask: false }),
      ], 1002),
      echoCase('31.1.5', 'an all-zero masking key is still a masked frame → echoed', () => textFrame('zero key', { mask: new Uint8Array(4) }), TEXT, () => bytes('zero key')),
      failCase(
        '31.2.1',
        '16-bit length used for a 100-byte payload (non-minimal, RFC 6455 §5.2) → close 1002',
        () => buildFrame({ opcode: OP.TEXT, payload: p100(), lengthEncoding: 16 }),
        1002,
      ),
      failCase('31.2.2', '16-bit length used for an empty payload → close 1002', () => buildFrame({ opcode: OP.BINARY, lengthEncoding: 16 }), 1002),
      failCase(
        '31.2.3',
        '16-bit length for a 100-byte ping (also > 125 in the 7-bit field) → close 1002',
        () => buildFrame({ opcode: OP.PING, payload: p100(), lengthEncoding: 16 }),
        1002,
      ),
      failCase(
        '31.3.1',
        '64-bit length used for a 200-byte payload → close 1002',
        () => buildFrame({ opcode: OP.BINARY, payload: payloadFor(BINARY, 200), lengthEncoding: 64 }),
        1002,
      ),
      failCase(
        '31.3.2',
        '64-bit length used for a 65535-byte payload → close 1002',
        () => buildFrame({ opcode: OP.BINARY, payload: payloadFor(BINARY, 65535), lengthEncoding: 64 }),
        1002,
      ),
      failCase(
        '31.3.3',
        '64-bit length used for a 100-byte payload → close 1002',
        () => buildFrame({ opcode: OP.TEXT, payload: p100(), lengthEncoding: 64 }),
        1002,
      ),
      failCase(
        '31.4.1',
        '64-bit length with the most significant bit set (header only) → close 1002',
        () => buildFrame({ opcode: OP.BINARY, declaredLength: (1n << 63n) | 5n, headerOnly: true }),
        1002,
      ),
      failCase(
        '31.4.2',
        '64-bit length 0xFFFFFFFFFFFFFFFF (header only) → close 1002',
        () => buildFrame({ opcode: OP.BINARY, declaredLength: (1n << 64n) - 1n, headerOnly: true }),
        1002,
      ),
    ];
  },
};

// ---------------------------------------------------------------------------
// 10 Auto-fragmentation
// ---------------------------------------------------------------------------

function randomSizes(total: number, seed: number, maxSize: number): number[] {
  const r = prng(seed);
  const sizes: number[] = [];
  let left = total;
  while (left > 0) {
    const n = Math.min(left, 1 + Math.floor(r() * maxSize));
    sizes.push(n);
    left -= n;
  }
  return sizes;
}

function fragmentedEchoes(env: CaseEnv): CaseDef[] {
  const size = Math.min(65536, env.maxMessageSize);
  const fragLimit = (n: number) =>
    env.maxFrames !== undefined && n > env.maxFrames ? `needs ${n} frames per message, limits.maxFrames is ${env.maxFrames}` : false;
  const n1300 = Math.ceil(size / 1300);
  const rnd = randomSizes(size, 42, 4096);
  const utf8 = (() => {
    const unit = bytes('κόσμε😀-'); // 1-, 2-, 3- and 4-byte code points
    const out = new Uint8Array(Math.floor(size / unit.length) * unit.length);
    for (let i = 0; i < out.length; i += unit.length) out.set(unit, i);
    return out;
  })();
  return [
    echoCase(
      '10.1.1',
      `text message of ${size} bytes auto-fragmented into 1300-byte frames (${n1300} frames) → echoed intact`,
      () => fragmentMessage(OP.TEXT, payloadFor(TEXT, size), 1300),
      TEXT,
      () => payloadFor(TEXT, size),
      { skip: fragLimit(n1300) },
    ),
    echoCase(
      '32.1',
      `${size}-byte binary message in ${rnd.length} fragments of random size (1..4096, seed 42) → echoed intact`,
      () => fragmentMessage(OP.BINARY, payloadFor(BINARY, size), rnd),
      BINARY,
      () => payloadFor(BINARY, size),
      { skip: fragLimit(rnd.length) },
    ),
    {
      id: '32.2',
      title: `${size}-byte binary in 1300-byte fragments, written in 997-byte pieces (writes cut frames) → echoed`,
      skip: fragLimit(n1300),
      run: async (c) => {
        const s = await c.open();
        const frames = fragmentMessage(OP.BINARY, payloadFor(BINARY, size), 1300);
        await s.dribble(concat(frames), 997);
        await s.expectEcho(BINARY, payloadFor(BINARY, size));
        await s.closeNormally();
      },
    },
    echoCase(
      '32.3',
      `${utf8.length}-byte multi-byte UTF-8 text in 1300-byte fragments (code points cut at fragment edges) → echoed`,
      () => fragmentMessage(OP.TEXT, utf8, 1300),
      TEXT,
      () => utf8,
      { skip: fragLimit(Math.ceil(utf8.length / 1300)) },
    ),
  ];
}

/** Category 10 (Autobahn 10.x): a message auto-fragmented by the sender. */
const autoFragmentation: Category = {
  id: '10',
  title: 'Auto-fragmentation (Autobahn 10.x)',
  cases: (env) => fragmentedEchoes(env).filter((c) => c.id.startsWith('10.')),
};

/** Category 32 (ours): large fragmented messages with irregular fragment and write sizes. */
const irregularFragments: Category = {
  id: '32',
  title: 'Irregular fragment and write sizes',
  cases: (env) => fragmentedEchoes(env).filter((c) => c.id.startsWith('32.')),
};

export const limitsCategories: Category[] = [limits, details, autoFragmentation, irregularFragments];
