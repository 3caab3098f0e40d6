/**
 * Categories 1-4 (Autobahn 1.x framing, 2.x ping/pong, 3.x reserved bits, 4.x opcodes).
 */
import {
  OP,
  buildFrame,
  bytes,
  closeFrame,
  concat,
  pingFrame,
  pongFrame,
  textFrame,
  binaryFrame,
} from '../frames.js';
import type { CaseDef, Category } from '../case-types.js';
import { BINARY, TEXT, echoCase, failCase, payloadFor, roundTrip, typeName } from './common.js';

const MiB = 1024 * 1024;

// ---------------------------------------------------------------------------
// 1 Framing
// ---------------------------------------------------------------------------

const framing: Category = {
  id: '1',
  title: 'Framing',
  cases(env) {
    const big = Math.min(MiB, env.maxMessageSize);
    const lengths = [0, 125, 126, 127, 128, 65535, 65536, big];
    const tooBig = (n: number) => (n > env.maxMessageSize ? `message of ${n} bytes exceeds limits.maxMessageSize` : false);
    const out: CaseDef[] = [];
    for (const [sub, opcode] of [
      [1, TEXT],
      [2, BINARY],
    ] as const) {
      lengths.forEach((n, i) => {
        out.push(
          echoCase(
            `1.${sub}.${i + 1}`,
            `${typeName(opcode)} message of ${n} bytes in one write is echoed`,
            () => buildFrame({ opcode, payload: payloadFor(opcode, n) }),
            opcode,
            () => payloadFor(opcode, n),
            { skip: tooBig(n), timeoutFactor: n >= MiB ? 4 : 1 },
          ),
        );
      });
    }
    // 1.3: one byte per write (header and payload)
    let k = 1;
    for (const opcode of [TEXT, BINARY]) {
      for (const n of [0, 125, 126, 127, 128]) {
        out.push({
          id: `1.3.${k++}`,
          title: `${typeName(opcode)} message of ${n} bytes sent one byte per write is echoed`,
          run: async (c) => {
            const s = await c.open();
            await s.dribble(buildFrame({ opcode, payload: payloadFor(opcode, n) }), 1);
            await s.expectEcho(opcode, payloadFor(opcode, n));
            await s.closeNormally();
          },
        });
      }
    }
    // 1.4: large frames, header one byte per write, payload in 997-byte writes
    k = 1;
    for (const opcode of [TEXT, BINARY]) {
      for (const n of [65535, 65536, big]) {
        out.push({
          id: `1.4.${k++}`,
          title: `${typeName(opcode)} message of ${n} bytes: header byte by byte, payload in 997-byte writes`,
          skip: tooBig(n),
          timeoutMs: 30000,
          run: async (c) => {
            const s = await c.open();
            const frame = buildFrame({ opcode, payload: payloadFor(opcode, n) });
            const headerLen = n < 126 ? 6 : n < 65536 ? 8 : 14;
            await s.dribble(frame.subarray(0, headerLen), 1);
            await s.dribble(frame.subarray(headerLen), 997);
            await s.expectEcho(opcode, payloadFor(opcode, n), c.env.timeoutMs * 4);
            await s.closeNormally();
          },
        });
      }
    }
    // 1.5: several frames per write, and writes cutting across frame boundaries
    const batch = () => [
      [TEXT, 0],
      [BINARY, 126],
      [TEXT, 125],
      [BINARY, Math.min(65536, env.maxMessageSize)],
      [TEXT, 3],
      [BINARY, 1],
    ] as const;
    out.push({
      id: '1.5.1',
      title: 'six messages of mixed type and size in ONE write are echoed in order',
      run: async (c) => {
        const s = await c.open();
        await s.send(...batch().map(([op, n]) => buildFrame({ opcode: op, payload: payloadFor(op, n, n + 11) })));
        for (const [op, n] of batch()) await s.expectEcho(op, payloadFor(op, n, n + 11));
        await s.closeNormally();
      },
    });
    out.push({
      id: '1.5.2',
      title: 'the same six messages written in 7-byte pieces that cut across frame boundaries',
      run: async (c) => {
        const s = await c.open();
        await s.dribble(concat(batch().map(([op, n]) => buildFrame({ opcode: op, payload: payloadFor(op, n, n + 11) }))), 7);
        for (const [op, n] of batch()) await s.expectEcho(op, payloadFor(op, n, n + 11));
        await s.closeNormally();
      },
    });
    out.push({
      id: '1.5.3',
      title: '200 small text messages in one write are all echoed, in order',
      run: async (c) => {
        const s = await c.open();
        const msgs = Array.from({ length: 200 }, (_, i) => `message #${i}`);
        await s.send(...msgs.map((m) => textFrame(m)));
        for (const m of msgs) {
          const got = await s.message();
          if (got.opcode !== OP.TEXT || Buffer.from(got.data).toString() !== m) {
            c.t.fail(`expected echo ${JSON.stringify(m)}, got ${JSON.stringify(Buffer.from(got.data).toString())}`);
            return;
          }
        }
        c.t.pass('200 echoes in order');
        await s.closeNormally();
      },
    });
    return out;
  },
};

// ---------------------------------------------------------------------------
// 2 Ping / pong
// ---------------------------------------------------------------------------

const allBytes125 = () => Uint8Array.from({ length: 125 }, (_, i) => (i * 2 + 0xfe) & 0xff);

const pingPong: Category = {
  id: '2',
  title: 'Pings/Pongs',
  cases() {
    const pingCase = (id: string, title: string, payload: () => Uint8Array, dribble = false): CaseDef => ({
      id,
      title,
      run: async (c) => {
        const s = await c.open();
        const f = pingFrame(payload());
        if (dribble) await s.dribble(f, 1);
        else await s.send(f);
        await s.expectPong(payload());
        await s.closeNormally();
      },
    });
    return [
      pingCase('2.1', 'ping without payload → pong without payload', () => new Uint8Array(0)),
      pingCase('2.2', 'ping with a small text payload → pong with the same payload', () => bytes('Hello, world!')),
      pingCase('2.3', 'ping with a small binary payload (incl. 0x00, 0xff) → identical pong', () => Uint8Array.from([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff])),
      pingCase('2.4', 'ping with a 125-byte payload → identical pong', allBytes125),
      failCase('2.5', 'ping with a 126-byte payload → close 1002', () => pingFrame(new Uint8Array(126).fill(0x41)), 1002),
      pingCase('2.6', 'ping with a 125-byte payload sent one byte per write → identical pong', allBytes125, true),
      {
        id: '2.7',
        title: 'unsolicited pong without payload is ignored; a following echo works',
        run: async (c) => {
          const s = await c.open();
          await s.send(pongFrame(), textFrame('after the pong'));
          await s.expectEcho(OP.TEXT, 'after the pong');
          await s.closeNormally();
        },
      },
      {
        id: '2.8',
        title: 'unsolicited pong with a 125-byte payload is ignored; a following echo works',
        run: async (c) => {
          const s = await c.open();
          await s.send(pongFrame(allBytes125()), textFrame('after the pong'));
          await s.expectEcho(OP.TEXT, 'after the pong');
          await s.closeNormally();
        },
      },
      {
        id: '2.9',
        title: 'unsolicited pong, then ping: exactly one pong comes back (for the ping)',
        run: async (c) => {
          const s = await c.open();
          await s.send(pongFrame('unsolicited'), pingFrame('ping payload'));
          await s.expectPong('ping payload');
          await s.closeNormally();
        },
      },
      {
        id: '2.10',
        title: '10 pings in one write → 10 pongs with the same payloads, in order',
        run: async (c) => {
          const s = await c.open();
          const payloads = Array.from({ length: 10 }, (_, i) => `ping #${i}`);
          await s.send(...payloads.map((p) => pingFrame(p)));
          for (const p of payloads) await s.expectPong(p);
          await s.closeNormally();
        },
      },
      {
        id: '2.11',
        title: '10 pings, each in its own write → 10 pongs in order',
        run: async (c) => {
          const s = await c.open();
          const payloads = Array.from({ length: 10 }, (_, i) => `ping #${i}`);
          await s.sendEach(payloads.map((p) => pingFrame(p)));
          for (const p of payloads) await s.expectPong(p);
          await s.closeNormally();
        },
      },
      failCase(
        '2.12',
        'fragmented ping (FIN=0 ping + continuation) → close 1002',
        () => [pingFrame('frag', { fin: false }), buildFrame({ opcode: OP.CONT, payload: 'ment' })],
        1002,
      ),
    ];
  },
};

// ---------------------------------------------------------------------------
// 3 Reserved bits
// ---------------------------------------------------------------------------

const rsvName = (r: number) => [r & 4 ? 'RSV1' : '', r & 2 ? 'RSV2' : '', r & 1 ? 'RSV3' : ''].filter(Boolean).join('+');
const rsvOpts = (r: number) => ({ rsv1: !!(r & 4), rsv2: !!(r & 2), rsv3: !!(r & 1) });

const reservedBits: Category = {
  id: '3',
  title: 'Reserved bits (no extension negotiated)',
  cases() {
    const out: CaseDef[] = [];
    for (let r = 1; r <= 7; r++) {
      out.push(failCase(`3.1.${r}`, `text frame with ${rsvName(r)} → close 1002`, () => textFrame('Hello', rsvOpts(r)), 1002));
    }
    out.push(failCase('3.2.1', 'binary frame with RSV1 → close 1002', () => binaryFrame([1, 2, 3], rsvOpts(4)), 1002));
    out.push(failCase('3.2.2', 'binary frame with RSV2 → close 1002', () => binaryFrame([1, 2, 3], rsvOpts(2)), 1002));
    out.push(failCase('3.2.3', 'ping with RSV3 → close 1002 (no pong)', () => pingFrame('x', rsvOpts(1)), 1002));
    out.push(failCase('3.2.4', 'ping with RSV1+RSV2 → close 1002 (no pong)', () => pingFrame('x', rsvOpts(6)), 1002));
    out.push(failCase('3.2.5', 'close frame with RSV1+RSV2+RSV3 → close 1002', () => closeFrame(1000, '', rsvOpts(7)), 1002));
    out.push(failCase('3.2.6', 'pong with RSV2 → close 1002', () => pongFrame('x', rsvOpts(2)), 1002));
    out.push(
      failCase('3.3.1', 'after a valid echo: text frame with RSV2 → close 1002', () => textFrame('Hello', rsvOpts(2)), 1002, {
        before: (s) => roundTrip(s),
      }),
    );
    out.push(
      failCase('3.3.2', 'after a valid echo: binary frame with RSV3 → close 1002', () => binaryFrame([0xff], rsvOpts(1)), 1002, {
        before: (s) => roundTrip(s),
      }),
    );
    out.push({
      id: '3.3.3',
      title: 'text, text with RSV1+RSV3, ping in ONE write → echo of the first text, close 1002, no pong',
      run: async (c) => {
        const s = await c.open();
        await s.send(textFrame('first'), textFrame('second', rsvOpts(5)), pingFrame('unanswered'));
        await s.expectEcho(OP.TEXT, 'first');
        await s.expectFail(1002);
      },
    });
    return out;
  },
};

// ---------------------------------------------------------------------------
// 4 Opcodes
// ---------------------------------------------------------------------------

const opcodes: Category = {
  id: '4',
  title: 'Reserved opcodes',
  cases() {
    const out: CaseDef[] = [];
    for (const op of [3, 4, 5, 6, 7]) {
      out.push(failCase(`4.1.${op - 2}`, `reserved non-control opcode ${op} → close 1002`, () => buildFrame({ opcode: op, payload: 'reserved' }), 1002));
    }
    for (const op of [11, 12, 13, 14, 15]) {
      out.push(failCase(`4.2.${op - 10}`, `reserved control opcode ${op} → close 1002`, () => buildFrame({ opcode: op, payload: 'reserved' }), 1002));
    }
    out.push(failCase('4.3.1', 'reserved opcode 3 with an empty payload → close 1002', () => buildFrame({ opcode: 3 }), 1002));
    out.push(failCase('4.3.2', 'reserved opcode 11 with an empty payload → close 1002', () => buildFrame({ opcode: 11 }), 1002));
    out.push({
      id: '4.3.3',
      title: 'text, frame with opcode 5, ping in ONE write → echo, close 1002, no pong',
      run: async (c) => {
        const s = await c.open();
        await s.send(textFrame('first'), buildFrame({ opcode: 5, payload: 'x' }), pingFrame('unanswered'));
        await s.expectEcho(OP.TEXT, 'first');
        await s.expectFail(1002);
      },
    });
    out.push({
      id: '4.3.4',
      title: 'text, frame with opcode 12, ping in ONE write → echo, close 1002, no pong',
      run: async (c) => {
        const s = await c.open();
        await s.send(textFrame('first'), buildFrame({ opcode: 12, payload: 'x' }), pingFrame('unanswered'));
        await s.expectEcho(OP.TEXT, 'first');
        await s.expectFail(1002);
      },
    });
    return out;
  },
};

export const basicCategories: Category[] = [framing, pingPong, reservedBits, opcodes];
