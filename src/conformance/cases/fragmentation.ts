/** Category 5 (Autobahn 5.x): fragmentation. */
import {
  OP,
  binaryFrame,
  buildFrame,
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
import { BINARY, TEXT, echoCase, failCase, payloadFor, roundTrip } from './common.js';

export const fragmentationCategory: Category = {
  id: '5',
  title: 'Fragmentation',
  cases(env) {
    const fragLimit = (n: number) =>
      env.maxFrames !== undefined && n > env.maxFrames ? `needs ${n} frames per message, limits.maxFrames is ${env.maxFrames}` : false;
    const many = Math.min(100, env.maxFrames ?? 100);
    const out: CaseDef[] = [
      echoCase(
        '5.1',
        'text in 2 fragments in one write → echoed as one text message',
        () => fragmentMessage(OP.TEXT, bytes('fragment1fragment2'), [9, 9]),
        TEXT,
        () => bytes('fragment1fragment2'),
      ),
      {
        id: '5.2',
        title: 'text in 2 fragments, each its own write → echoed as one message',
        run: async (c) => {
          const s = await c.open();
          await s.sendEach(fragmentMessage(OP.TEXT, bytes('fragment1fragment2'), [9, 9]));
          await s.expectEcho(TEXT, 'fragment1fragment2');
          await s.closeNormally();
        },
      },
      {
        id: '5.3',
        title: 'text in 2 fragments sent one byte per write → echoed',
        run: async (c) => {
          const s = await c.open();
          await s.dribble(concat(fragmentMessage(OP.TEXT, bytes('fragment1fragment2'), [9, 9])), 1);
          await s.expectEcho(TEXT, 'fragment1fragment2');
          await s.closeNormally();
        },
      },
      echoCase(
        '5.4',
        'binary in 2 fragments → echoed as one binary message',
        () => fragmentMessage(OP.BINARY, payloadFor(BINARY, 300), [150, 150]),
        BINARY,
        () => payloadFor(BINARY, 300),
      ),
      echoCase(
        '5.5',
        `text in ${many} fragments of 10 bytes → echoed as one message`,
        () => fragmentMessage(OP.TEXT, payloadFor(TEXT, many * 10), 10),
        TEXT,
        () => payloadFor(TEXT, many * 10),
        { skip: many < 2 ? 'limits.maxFrames < 2' : false },
      ),
      echoCase(
        '5.6',
        `binary in ${many} fragments of 1 byte → echoed`,
        () => fragmentMessage(OP.BINARY, payloadFor(BINARY, many), 1),
        BINARY,
        () => payloadFor(BINARY, many),
        { skip: many < 2 ? 'limits.maxFrames < 2' : false },
      ),
      {
        id: '5.7',
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
        id: '5.8',
        title: 'fragment, ping, fragment in ONE write → pong first, then the echo',
        run: async (c) => {
          const s = await c.open();
          await s.send(textFrame('fragment1', { fin: false }), pingFrame('in between'), contFrame('fragment2'));
          await s.expectPong('in between');
          await s.expectEcho(TEXT, 'fragment1fragment2');
          await s.closeNormally();
        },
      },
      {
        id: '5.9',
        title: 'text in 5 fragments with a ping after each non-final one; each pong arrives before continuing',
        skip: fragLimit(5),
        run: async (c) => {
          const s = await c.open();
          const parts = ['one-', 'two-', 'three-', 'four-', 'five'];
          for (let i = 0; i < parts.length; i++) {
            const fin = i === parts.length - 1;
            await s.send(buildFrame({ opcode: i === 0 ? OP.TEXT : OP.CONT, payload: parts[i], fin }));
            if (!fin) {
              await s.send(pingFrame(`ping ${i}`));
              await s.expectPong(`ping ${i}`);
            }
          }
          await s.expectEcho(TEXT, parts.join(''));
          await s.closeNormally();
        },
      },
      {
        id: '5.10',
        title: 'binary fragments with unsolicited pongs in between → echo, nothing for the pongs',
        run: async (c) => {
          const s = await c.open();
          await s.send(binaryFrame([1, 2], { fin: false }), pongFrame('x'), contFrame([3, 4], { fin: false }), pongFrame(), contFrame([5]));
          await s.expectEcho(BINARY, Uint8Array.from([1, 2, 3, 4, 5]));
          await s.closeNormally();
        },
      },
      failCase('5.11', 'continuation (FIN=1) with nothing to continue → close 1002', () => contFrame('orphan'), 1002),
      failCase('5.12', 'continuation (FIN=0) with nothing to continue → close 1002', () => contFrame('orphan', { fin: false }), 1002),
      failCase(
        '5.13',
        'continuation with nothing to continue, sent one byte per write → close 1002',
        () => [],
        1002,
        { before: (s) => s.dribble(contFrame('orphan'), 1) },
      ),
      failCase('5.14', 'after a complete echoed message, a continuation → close 1002', () => contFrame('late'), 1002, {
        before: (s) => roundTrip(s),
      }),
      {
        id: '5.15',
        title: 'fragmented text completed, then continuation FIN=0, continuation, text in one write → echo, then close 1002',
        run: async (c) => {
          const s = await c.open();
          await s.send(
            ...fragmentMessage(OP.TEXT, bytes('fragment1fragment2'), [9, 9]),
            contFrame('fragment3', { fin: false }),
            contFrame('fragment4'),
            textFrame('never echoed'),
          );
          await s.expectEcho(TEXT, 'fragment1fragment2');
          await s.expectFail(1002);
        },
      },
      failCase('5.16', 'text FIN=0, then a new text FIN=1 inside it → close 1002', () => [textFrame('a', { fin: false }), textFrame('b')], 1002),
      failCase(
        '5.17',
        'binary FIN=0, then a new binary FIN=0 inside it → close 1002',
        () => [binaryFrame([1], { fin: false }), binaryFrame([2], { fin: false })],
        1002,
      ),
      failCase('5.18', 'text FIN=0, then binary FIN=1 inside it → close 1002', () => [textFrame('a', { fin: false }), binaryFrame([2])], 1002),
      failCase(
        '5.19',
        'fragmented ping → close 1002',
        () => [pingFrame('a', { fin: false }), contFrame('b')],
        1002,
      ),
      failCase('5.20', 'fragmented pong → close 1002', () => [pongFrame('a', { fin: false }), contFrame('b')], 1002),
      failCase('5.21', 'close frame with FIN=0 → close 1002', () => [closeFrame(1000, '', { fin: false }), contFrame('')], 1002),
      failCase(
        '5.22',
        'inside a fragmented text, a FIN=0 ping → close 1002',
        () => [textFrame('a', { fin: false }), pingFrame('b', { fin: false }), contFrame('c')],
        1002,
      ),
      echoCase(
        '5.23',
        'text in 3 empty fragments → empty text message echoed',
        () => fragmentMessage(OP.TEXT, new Uint8Array(0), [0, 0, 0]),
        TEXT,
        () => new Uint8Array(0),
      ),
      echoCase(
        '5.24',
        'text: empty first and last fragment, non-empty middle → echoed',
        () => fragmentMessage(OP.TEXT, bytes('middle'), [0, 6, 0]),
        TEXT,
        () => bytes('middle'),
      ),
      echoCase(
        '5.25',
        'binary: data, empty, data, empty final fragment → echoed',
        () => fragmentMessage(OP.BINARY, Uint8Array.from([1, 2, 3, 4]), [2, 0, 2, 0]),
        BINARY,
        () => Uint8Array.from([1, 2, 3, 4]),
        { skip: fragLimit(4) },
      ),
    ];
    return out;
  },
};
