/** Category 7 (Autobahn 7.x): closing handshake. */
import { OP, buildFrame, bytes, closeFrame, closePayload, contFrame, pingFrame, textFrame } from '../frames.js';
import type { CaseDef, Category } from '../case-types.js';
import { failCase, payloadFor, roundTrip } from './common.js';

/** client-initiated close; the server must answer with `code` and then end the transport in an orderly way */
function closeEcho(id: string, title: string, frames: () => Uint8Array[], code: number | 'empty', also: Array<number | 'empty'> = []): CaseDef {
  return {
    id,
    title,
    run: async (c) => {
      const s = await c.open();
      await s.send(...frames());
      await s.expectClose(code, { reply: false, requireOrderlyEnd: true, also });
    },
  };
}

export const VALID_CLOSE_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999];
/** Autobahn 7.9.x: never valid on the wire (RFC 6455 §7.4) */
export const INVALID_CLOSE_CODES = [0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999];

/** Category 7 (Autobahn 7.x): the closing handshake (RFC 6455 §5.5.1, §7). */
export const closeCategory: Category = {
  id: '7',
  title: 'Close handling (Autobahn 7.x)',
  cases(env) {
    const out: CaseDef[] = [
      {
        id: '7.1.1',
        title: 'text message, then close 1000 → echo, close 1000, then the server ends the transport',
        run: async (c) => {
          const s = await c.open();
          await roundTrip(s);
          await s.closeNormally();
        },
      },
      closeEcho('7.1.2', 'two close frames → exactly one close reply, the second close ignored', () => [closeFrame(1000), closeFrame(1000)], 1000),
      closeEcho('7.1.3', 'ping after the close → close reply only, no pong', () => [closeFrame(1000), pingFrame('ignored')], 1000),
      closeEcho('7.1.4', 'text after the close → close reply only, the text is not echoed', () => [closeFrame(1000), textFrame('ignored')], 1000),
      closeEcho(
        '7.1.5',
        'text fragment 1, close, fragment 2 → close reply only, no echo',
        () => [textFrame('fragment1', { fin: false }), closeFrame(1000), contFrame('fragment2')],
        1000,
      ),
      {
        id: '7.1.6',
        title: '256 KiB text, close and ping back to back → outcome depends on the implementation (INFORMATIONAL)',
        skip: env.maxMessageSize < 262144 ? 'a 256 KiB message exceeds the declared maxMessageSize' : false,
        run: async (c) => {
          const s = await c.open();
          const big = payloadFor(OP.TEXT, 262144);
          await s.send(textFrame(big), closeFrame(1000), pingFrame('after the close'));
          // RFC 6455 §7.1.2: a server may close before or after echoing the queued message
          const first = await s.frame(c.env.timeoutMs * 4);
          if (first.opcode === OP.CLOSE) {
            c.t.informational('the server answered the close without echoing the message before it');
          } else {
            c.t.equal(first.opcode, OP.TEXT, 'the echo starts with a text frame');
            let f = first;
            while (!f.fin) f = await s.frame(c.env.timeoutMs * 4);
            c.t.informational('the server echoed the message, then closed');
          }
          await s.expectClose(1000, { reply: false, ...(first.opcode === OP.CLOSE ? { preread: first } : {}) });
        },
      },
      closeEcho('7.3.1', 'close with payload length 0 → close without payload (or 1000), then the transport ends', () => [closeFrame()], 'empty', [1000]),
      failCase('7.3.2', 'close with payload length 1 → close 1002', () => buildFrame({ opcode: OP.CLOSE, payload: [0x03] }), 1002),
      closeEcho('7.3.3', 'close 1000 without reason → close 1000', () => [closeFrame(1000)], 1000),
      closeEcho('7.3.4', 'close 1000 with a reason → close 1000', () => [closeFrame(1000, 'Hello World!')], 1000),
      closeEcho('7.3.5', 'close 1000 with a reason of 123 octets (maximum) → close 1000', () => [closeFrame(1000, 'r'.repeat(123))], 1000),
      failCase('7.3.6', 'close 1000 with a 124-octet reason (payload 126 octets) → close 1002', () => closeFrame(1000, 'r'.repeat(124)), 1002),
      failCase(
        '7.5.1',
        'close with an invalid UTF-8 reason (κόσμε U+110000 edited) → close 1002 or 1007',
        () => buildFrame({ opcode: OP.CLOSE, payload: closePayload(1000, Uint8Array.from(Buffer.from('cebae1bdb9cf83cebcceb5f4908080656469746564', 'hex'))) }),
        [1007, 1002],
      ),
    ];
    VALID_CLOSE_CODES.forEach((code, i) => {
      out.push(closeEcho(`7.7.${i + 1}`, `close with valid code ${code} → close ${code} (echo) or 1000`, () => [closeFrame(code)], code, [1000]));
    });
    INVALID_CLOSE_CODES.forEach((code, i) => {
      out.push(failCase(`7.9.${i + 1}`, `close with invalid code ${code} → close 1002`, () => buildFrame({ opcode: OP.CLOSE, payload: closePayload(code) }), 1002));
    });
    for (const [id, code] of [
      ['7.13.1', 5000],
      ['7.13.2', 65535],
    ] as const) {
      out.push({
        id,
        title: `close with code ${code} (undefined by RFC 6455) → what happens is reported (INFORMATIONAL)`,
        run: async (c) => {
          const s = await c.open();
          await s.send(buildFrame({ opcode: OP.CLOSE, payload: closePayload(code) }));
          await s.expectClose([1002, 1000, code], { reply: false });
          c.t.informational(`the server's reaction to close code ${code} is in the observations`);
        },
      });
    }
    return out;
  },
};

/** Category 29 (ours): close handling beyond Autobahn's cases. */
export const moreCloseCategory: Category = {
  id: '29',
  title: 'Close handling, more cases',
  cases() {
    return [
      {
        id: '29.1',
        title: 'close, then (separate write) text → close reply, nothing else, orderly end',
        run: async (c) => {
          const s = await c.open();
          await s.send(closeFrame(1000));
          await s.send(textFrame('ignored'));
          await s.expectClose(1000, { reply: false, requireOrderlyEnd: true });
        },
      },
      failCase('29.2', 'close 1000 with a reason cut inside a code point → close 1007 or 1002', () => closeFrame(1000, Uint8Array.from([0x61, 0xe2, 0x82])), [1007, 1002]),
      failCase('29.3', 'close with code 1015 (TLS handshake failure, never on the wire) → close 1002', () => buildFrame({ opcode: OP.CLOSE, payload: closePayload(1015) }), 1002),
      {
        id: '29.4',
        title: 'close 1000 with a reason, sent one byte per write → close 1000',
        run: async (c) => {
          const s = await c.open();
          await s.dribble(closeFrame(1000, bytes('slowly')), 1);
          await s.expectClose(1000, { reply: false, requireOrderlyEnd: true });
        },
      },
    ];
  },
};
