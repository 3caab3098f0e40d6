/** Category 5 (Autobahn 5.x): fragmentation. */
import {
  OP,
  binaryFrame,
  bytes,
  closeFrame,
  concat,
  contFrame,
  fragmentMessage,
  pingFrame,
  pongFrame,
  textFrame,
} from '../frames.js';
import type { CaseDef, Category } from '../case-types.js';
import type { Session } from '../session.js';
import { BINARY, TEXT, echoCase, failCase, payloadFor, roundTrip } from './common.js';

type Chops = 'one' | 'frames' | 'octets';

async function sendChopped(s: Session, frames: Uint8Array[], chops: Chops): Promise<void> {
  if (chops === 'one') await s.send(...frames);
  else if (chops === 'frames') await s.sendEach(frames);
  else await s.dribble(concat(frames), 1);
}

const chopName: Record<Chops, string> = { one: 'in one chop', frames: 'in frame-wise chops', octets: 'in octet-wise chops' };

/** Category 5 (Autobahn 5.x): fragmentation (RFC 6455 §5.4). */
export const fragmentationCategory: Category = {
  id: '5',
  title: 'Fragmentation (Autobahn 5.x)',
  cases() {
    const two = () => fragmentMessage(OP.TEXT, bytes('fragment1fragment2'), [9, 9]);
    const out: CaseDef[] = [
      failCase('5.1', 'ping fragmented into 2 fragments → close 1002', () => [pingFrame('frag', { fin: false }), contFrame('ment')], 1002),
      failCase('5.2', 'pong fragmented into 2 fragments → close 1002', () => [pongFrame('frag', { fin: false }), contFrame('ment')], 1002),
    ];
    (['one', 'frames', 'octets'] as const).forEach((chops, i) => {
      out.push({
        id: `5.${3 + i}`,
        title: `text message in 2 fragments, ${chopName[chops]} → echoed as one message`,
        run: async (c) => {
          const s = await c.open();
          await sendChopped(s, two(), chops);
          await s.expectEcho(TEXT, 'fragment1fragment2');
          await s.closeNormally();
        },
      });
    });
    (['one', 'frames', 'octets'] as const).forEach((chops, i) => {
      out.push({
        id: `5.${6 + i}`,
        title: `text message in 2 fragments with a ping in between, ${chopName[chops]} → pong, then the echo`,
        run: async (c) => {
          const s = await c.open();
          await sendChopped(s, [textFrame('fragment1', { fin: false }), pingFrame('in between'), contFrame('fragment2')], chops);
          await s.expectPong('in between');
          await s.expectEcho(TEXT, 'fragment1fragment2');
          await s.closeNormally();
        },
      });
    });
    [true, false].forEach((fin, j) => {
      (['one', 'frames', 'octets'] as const).forEach((chops, i) => {
        const id = `5.${9 + j * 3 + i}`;
        out.push({
          id,
          title: `continuation with FIN = ${fin} and nothing to continue, then a text message, ${chopName[chops]} → close 1002`,
          run: async (c) => {
            const s = await c.open();
            await sendChopped(s, [contFrame('non-continuation payload', { fin }), textFrame('Hello, world!')], chops);
            await s.expectFail(1002);
          },
        });
      });
    });
    out.push({
      id: '5.15',
      title: 'text in 2 fragments, then a continuation FIN = false with nothing to continue, then text, in one chop → echo, then close 1002',
      run: async (c) => {
        const s = await c.open();
        await s.send(...two(), contFrame('fragment3', { fin: false }), textFrame('fragment4'));
        await s.expectEchoThenFail(TEXT, 'fragment1fragment2', 1002);
      },
    });
    for (const [id, fin] of [
      ['5.16', false],
      ['5.17', true],
    ] as const) {
      out.push(
        failCase(
          id,
          `twice: continuation FIN = ${fin} with nothing to continue, then a text in 2 fragments → close 1002`,
          () => [contFrame('fragment1', { fin }), ...two(), contFrame('fragment1', { fin }), ...two()],
          1002,
        ),
      );
    }
    out.push(failCase('5.18', 'text in 2 fragments, both with the text opcode → close 1002', () => [textFrame('fragment1', { fin: false }), textFrame('fragment2')], 1002));
    (['one', 'frames'] as const).forEach((chops, i) => {
      out.push({
        id: `5.${19 + i}`,
        title: `text in 5 fragments with 2 pings in between, the second batch after the first pong, ${chopName[chops]} → 2 pongs, then the echo`,
        run: async (c) => {
          const s = await c.open();
          await sendChopped(s, [textFrame('fragment1', { fin: false }), contFrame('fragment2', { fin: false }), pingFrame('pongme 1!')], chops);
          await s.expectPong('pongme 1!');
          await sendChopped(s, [contFrame('fragment3', { fin: false }), contFrame('fragment4', { fin: false }), pingFrame('pongme 2!'), contFrame('fragment5')], chops);
          await s.expectPong('pongme 2!');
          await s.expectEcho(TEXT, 'fragment1fragment2fragment3fragment4fragment5');
          await s.closeNormally();
        },
      });
    });
    return out;
  },
};

/** Category 27 (ours): fragmentation beyond Autobahn's cases. */
export const moreFragmentationCategory: Category = {
  id: '27',
  title: 'Fragmentation, more cases',
  cases(env) {
    const fragLimit = (n: number) =>
      env.maxFrames !== undefined && n > env.maxFrames ? `needs ${n} frames per message, limits.maxFrames is ${env.maxFrames}` : false;
    const many = Math.min(100, env.maxFrames ?? 100);
    return [
      echoCase(
        '27.1',
        'binary in 2 fragments → echoed as one binary message',
        () => fragmentMessage(OP.BINARY, payloadFor(BINARY, 300), [150, 150]),
        BINARY,
        () => payloadFor(BINARY, 300),
      ),
      echoCase(
        '27.2',
        `text in ${many} fragments of 10 bytes → echoed as one message`,
        () => fragmentMessage(OP.TEXT, payloadFor(TEXT, many * 10), 10),
        TEXT,
        () => payloadFor(TEXT, many * 10),
        { skip: many < 2 ? 'limits.maxFrames < 2' : false },
      ),
      echoCase(
        '27.3',
        `binary in ${many} fragments of 1 byte → echoed`,
        () => fragmentMessage(OP.BINARY, payloadFor(BINARY, many), 1),
        BINARY,
        () => payloadFor(BINARY, many),
        { skip: many < 2 ? 'limits.maxFrames < 2' : false },
      ),
      {
        id: '27.4',
        title: 'text fragment, ping: the pong comes BEFORE the message is finished; then the rest → echo',
        run: async (c) => {
          const s = await c.open();
          await s.send(textFrame('fragment1', { fin: false }), pingFrame('in between'));
          await s.expectPong('in between');
          await s.send(contFrame('fragment2'));
          await s.expectEcho(TEXT, 'fragment1fragment2');
          await s.closeNormally();
        },
      },
      {
        id: '27.5',
        title: 'binary fragments with unsolicited pongs in between → echo, nothing for the pongs',
        run: async (c) => {
          const s = await c.open();
          await s.send(binaryFrame([1, 2], { fin: false }), pongFrame('x'), contFrame([3, 4], { fin: false }), pongFrame(), contFrame([5]));
          await s.expectEcho(BINARY, Uint8Array.from([1, 2, 3, 4, 5]));
          await s.closeNormally();
        },
      },
      failCase('27.6', 'after a complete echoed message, a continuation → close 1002', () => contFrame('late'), 1002, {
        before: (s) => roundTrip(s),
      }),
      failCase(
        '27.7',
        'binary FIN=0, then a new binary FIN=0 inside it → close 1002',
        () => [binaryFrame([1], { fin: false }), binaryFrame([2], { fin: false })],
        1002,
      ),
      failCase('27.8', 'text FIN=0, then binary FIN=1 inside it → close 1002', () => [textFrame('a', { fin: false }), binaryFrame([2])], 1002),
      failCase('27.9', 'close frame with FIN=0 → close 1002', () => [closeFrame(1000, '', { fin: false }), contFrame('')], 1002),
      failCase(
        '27.10',
        'inside a fragmented text, a FIN=0 ping → close 1002',
        () => [textFrame('a', { fin: false }), pingFrame('b', { fin: false }), contFrame('c')],
        1002,
      ),
      echoCase(
        '27.11',
        'binary: data, empty, data, empty final fragment → echoed',
        () => fragmentMessage(OP.BINARY, Uint8Array.from([1, 2, 3, 4]), [2, 0, 2, 0]),
        BINARY,
        () => Uint8Array.from([1, 2, 3, 4]),
        { skip: fragLimit(4) },
      ),
    ];
  },
};
