/** Category 7 (Autobahn 7.x): closing handshake. */
import { OP, buildFrame, bytes, closeFrame, closePayload, contFrame, pingFrame, textFrame } from '../frames.js';
import type { CaseDef, Category } from '../case-types.js';
import { failCase, roundTrip } from './common.js';

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
/** never valid on the wire (RFC 6455 §7.4); 1012-1014 are IANA-registered and deliberately absent */
export const INVALID_CLOSE_CODES = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];

export const closeCategory: Category = {
  id: '7',
  title: 'Close handling',
  cases() {
    const out: CaseDef[] = [
      {
        id: '7.1.1',
        title: 'echo, then close 1000 → close 1000, then the server ends the transport (FIN)',
        run: async (c) => {
          const s = await c.open();
          await roundTrip(s);
          await s.closeNormally();
        },
      },
      /*
       * RFC 6455 §5.5.1: an endpoint that receives a Close frame MUST send a
       * Close frame in response, "typically echo[ing] the status code it
       * received". An empty close carries no status code (the application sees
       * 1005, which §7.4.1 forbids on the wire), so the echo of an empty close
       * is an empty close; 1000 (normal closure) is the only other reply that
       * is correct for a peer that gave no reason. Both are accepted.
       */
      closeEcho('7.1.2', 'close without payload → close without payload (or 1000), then FIN', () => [closeFrame()], 'empty', [1000]),
      closeEcho('7.1.3', 'close then text in ONE write → close reply only, the text is not echoed', () => [closeFrame(1000), textFrame('ignored')], 1000),
      closeEcho('7.1.4', 'close then ping in ONE write → close reply only, no pong', () => [closeFrame(1000), pingFrame('ignored')], 1000),
      closeEcho('7.1.5', 'close twice in ONE write → exactly one close reply', () => [closeFrame(1000), closeFrame(1000)], 1000),
      closeEcho(
        '7.1.6',
        'text fragment (FIN=0), close, continuation → close reply only, no echo',
        () => [textFrame('fragment1', { fin: false }), closeFrame(1000), contFrame('fragment2')],
        1000,
      ),
      {
        id: '7.1.7',
        title: 'close, then (separate write) text → close reply, nothing else, FIN',
        run: async (c) => {
          const s = await c.open();
          await s.send(closeFrame(1000));
          await s.send(textFrame('ignored'));
          await s.expectClose(1000, { reply: false, requireOrderlyEnd: true });
        },
      },
      closeEcho('7.3.1', 'close 1000 without reason → close 1000', () => [closeFrame(1000)], 1000),
      closeEcho('7.3.2', 'close 1000 with reason "bye" → close 1000', () => [closeFrame(1000, 'bye')], 1000),
      closeEcho('7.3.3', 'close 1000 with a 123-byte reason (125-byte payload) → close 1000', () => [closeFrame(1000, 'r'.repeat(123))], 1000),
      closeEcho('7.3.4', 'close 1000 with a multi-byte UTF-8 reason → close 1000', () => [closeFrame(1000, 'au revoir, κόσμε 😀')], 1000),
      failCase('7.3.5', 'close with a 1-byte payload → close 1002', () => buildFrame({ opcode: OP.CLOSE, payload: [0x03] }), 1002),
      failCase('7.3.6', 'close 1000 with a 124-byte reason (126-byte payload) → close 1002', () => closeFrame(1000, 'r'.repeat(124)), 1002),
      failCase(
        '7.3.7',
        'close 1000 with an invalid UTF-8 reason (κόσμε + U+110000) → close 1007',
        () => buildFrame({ opcode: OP.CLOSE, payload: closePayload(1000, Uint8Array.from(Buffer.from('cebae1bdb9cf83cebcceb5f4908080656469746564', 'hex'))) }),
        1007,
      ),
      failCase('7.3.8', 'close 1000 with a reason cut inside a code point → close 1007', () => closeFrame(1000, Uint8Array.from([0x61, 0xe2, 0x82])), 1007),
    ];
    VALID_CLOSE_CODES.forEach((code, i) => {
      out.push(closeEcho(`7.7.${i + 1}`, `close with valid code ${code} → close ${code} (echo)`, () => [closeFrame(code)], code));
    });
    INVALID_CLOSE_CODES.forEach((code, i) => {
      out.push(failCase(`7.9.${i + 1}`, `close with invalid code ${code} → close 1002`, () => buildFrame({ opcode: OP.CLOSE, payload: closePayload(code) }), 1002));
    });
    out.push({
      id: '7.13.1',
      title: 'close 1000 with a reason, sent one byte per write → close 1000',
      run: async (c) => {
        const s = await c.open();
        await s.dribble(closeFrame(1000, bytes('slowly')), 1);
        await s.expectClose(1000, { reply: false, requireOrderlyEnd: true });
      },
    });
    return out;
  },
};
