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
import { BINARY, TEXT, echoCase, failCase, payloadFor, typeName } from './common.js';

// ---------------------------------------------------------------------------
// 1 Framing
// ---------------------------------------------------------------------------

const framing: Category = {
  id: '1',
  title: 'Framing (Autobahn 1.x)',
  cases(env) {
    const lengths = [0, 125, 126, 127, 128, 65535, 65536];
    const tooBig = (n: number) => (n > env.maxMessageSize ? `message of ${n} bytes exceeds the declared maxMessageSize` : false);
    const out: CaseDef[] = [];
    for (const [sub, opcode] of [
      [1, TEXT],
      [2, BINARY],
    ] as const) {
      lengths.forEach((n, i) => {
        out.push(
          echoCase(
            `1.${sub}.${i + 1}`,
            `${typeName(opcode)} message of ${n} bytes is echoed`,
            () => buildFrame({ opcode, payload: payloadFor(opcode, n) }),
            opcode,
            () => payloadFor(opcode, n),
            { skip: tooBig(n) },
          ),
        );
      });
      out.push({
        id: `1.${sub}.8`,
        title: `${typeName(opcode)} message of 65536 bytes sent in chops of 997 octets is echoed`,
        skip: tooBig(65536),
        run: async (c) => {
          const s = await c.open();
          await s.dribble(buildFrame({ opcode, payload: payloadFor(opcode, 65536) }), 997);
          await s.expectEcho(opcode, payloadFor(opcode, 65536));
          await s.closeNormally();
        },
      });
    }
    return out;
  },
};

/** Category 24 (ours): how writes cut the byte stream: byte-wise headers, batches of frames in one write. */
const writeChopping: Category = {
  id: '24',
  title: 'Write chopping and batching',
  cases(env) {
    const big = Math.min(1024 * 1024, env.maxMessageSize);
    const out: CaseDef[] = [];
    // 24.1: one byte per write (header and payload)
    let k = 1;
    for (const opcode of [TEXT, BINARY]) {
      for (const n of [0, 125, 126, 127, 128]) {
        out.push({
          id: `24.1.${k++}`,
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
    // 24.2: large frames, header one byte per write, payload in 997-byte writes
    k = 1;
    for (const opcode of [TEXT, BINARY]) {
      for (const n of [65535, 65536, big]) {
        out.push({
          id: `24.2.${k++}`,
          title: `${typeName(opcode)} message of ${n} bytes: header byte by byte, payload in 997-byte writes`,
          skip: n > env.maxMessageSize ? `message of ${n} bytes exceeds the declared maxMessageSize` : false,
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
    // 24.3: several frames per write, and writes cutting across frame boundaries
    const batch = () => [
      [TEXT, 0],
      [BINARY, 126],
      [TEXT, 125],
      [BINARY, Math.min(65536, env.maxMessageSize)],
      [TEXT, 3],
      [BINARY, 1],
    ] as const;
    out.push({
      id: '24.3.1',
      title: 'six messages of mixed type and size in ONE write are echoed in order',
      run: async (c) => {
        const s = await c.open();
        await s.send(...batch().map(([op, n]) => buildFrame({ opcode: op, payload: payloadFor(op, n, n + 11) })));
        for (const [op, n] of batch()) await s.expectEcho(op, payloadFor(op, n, n + 11));
        await s.closeNormally();
      },
    });
    out.push({
      id: '24.3.2',
      title: 'the same six messages written in 7-byte pieces that cut across frame boundaries',
      run: async (c) => {
        const s = await c.open();
        await s.dribble(concat(batch().map(([op, n]) => buildFrame({ opcode: op, payload: payloadFor(op, n, n + 11) }))), 7);
        for (const [op, n] of batch()) await s.expectEcho(op, payloadFor(op, n, n + 11));
        await s.closeNormally();
      },
    });
    out.push({
      id: '24.3.3',
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
  title: 'Pings/Pongs (Autobahn 2.x)',
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
        title: '10 pings sent in octet-wise chops → 10 pongs in order',
        run: async (c) => {
          const s = await c.open();
          const payloads = Array.from({ length: 10 }, (_, i) => `ping #${i}`);
          await s.dribble(concat(payloads.map((p) => pingFrame(p))), 1);
          for (const p of payloads) await s.expectPong(p);
          await s.closeNormally();
        },
      },
    ];
  },
};

// ---------------------------------------------------------------------------
// 3 Reserved bits
// ---------------------------------------------------------------------------

const rsvName = (r: number) => [r & 4 ? 'RSV1' : '', r & 2 ? 'RSV2' : '', r & 1 ? 'RSV3' : ''].filter(Boolean).join('+');
const rsvOpts = (r: number) => ({ rsv1: !!(r & 4), rsv2: !!(r & 2), rsv3: !!(r & 1) });

/**
 * After a valid text message, `bad` and a ping, written in one chop, frame-wise
 * or octet-wise: the echo comes back, then the server fails the connection
 * with 1002 and never answers the ping (Autobahn 3.2-3.4, 4.1.3-4.2.5).
 */
function echoThenFail(id: string, title: string, bad: () => Uint8Array, chops: 'one' | 'frames' | 'octets' = 'one'): CaseDef {
  return {
    id,
    title,
    run: async (c) => {
      const s = await c.open();
      const frames = [textFrame('Hello, world!'), bad(), pingFrame('unanswered')];
      if (chops === 'one') await s.send(...frames);
      else if (chops === 'frames') await s.sendEach(frames);
      else await s.dribble(concat(frames), 1);
      await s.expectEchoThenFail(OP.TEXT, 'Hello, world!', 1002);
    },
  };
}

/** Category 3 (Autobahn 3.x): RSV bits without a negotiated extension (RFC 6455 §5.2). */
const reservedBits: Category = {
  id: '3',
  title: 'Reserved bits (Autobahn 3.x)',
  cases() {
    return [
      failCase('3.1', 'small text message with RSV = 1 → close 1002', () => textFrame('Hello', rsvOpts(1)), 1002),
      echoThenFail('3.2', 'text message, then text with RSV = 2, then ping → echo, close 1002, no pong', () => textFrame('Hello', rsvOpts(2))),
      echoThenFail('3.3', 'text, text with RSV = 3, ping in frame-wise chops → echo, close 1002, no pong', () => textFrame('Hello', rsvOpts(3)), 'frames'),
      echoThenFail('3.4', 'text, text with RSV = 4, ping in octet-wise chops → echo, close 1002, no pong', () => textFrame('Hello', rsvOpts(4)), 'octets'),
      failCase('3.5', 'small binary message with RSV = 5 → close 1002', () => binaryFrame([0, 1, 2, 0xff], rsvOpts(5)), 1002),
      failCase('3.6', 'ping with RSV = 6 → close 1002, no pong', () => pingFrame('Hello', rsvOpts(6)), 1002),
      failCase('3.7', 'close with RSV = 7 → close 1002', () => closeFrame(1000, '', rsvOpts(7)), 1002),
    ];
  },
};

/** Category 25 (ours): the RSV combinations Autobahn leaves out, on every frame type. */
const moreReservedBits: Category = {
  id: '25',
  title: 'Reserved bits, remaining combinations',
  cases() {
    const out: CaseDef[] = [];
    for (const r of [5, 6, 7]) out.push(failCase(`25.1.${r - 4}`, `text frame with ${rsvName(r)} → close 1002`, () => textFrame('Hello', rsvOpts(r)), 1002));
    out.push(failCase('25.2.1', 'binary frame with RSV1 → close 1002', () => binaryFrame([1, 2, 3], rsvOpts(4)), 1002));
    out.push(failCase('25.2.2', 'binary frame with RSV2 → close 1002', () => binaryFrame([1, 2, 3], rsvOpts(2)), 1002));
    out.push(failCase('25.2.3', 'ping with RSV3 → close 1002 (no pong)', () => pingFrame('x', rsvOpts(1)), 1002));
    out.push(failCase('25.2.4', 'pong with RSV2 → close 1002', () => pongFrame('x', rsvOpts(2)), 1002));
    return out;
  },
};

/** Category 4 (Autobahn 4.x): reserved opcodes (RFC 6455 §5.2: fail the connection). */
const opcodes: Category = {
  id: '4',
  title: 'Reserved opcodes (Autobahn 4.x)',
  cases() {
    const out: CaseDef[] = [];
    for (const [sub, base, kind] of [
      [1, 3, 'non-control'],
      [2, 11, 'control'],
    ] as const) {
      out.push(failCase(`4.${sub}.1`, `frame with reserved ${kind} opcode ${base} → close 1002`, () => buildFrame({ opcode: base }), 1002));
      out.push(
        failCase(`4.${sub}.2`, `frame with reserved ${kind} opcode ${base + 1} and a payload → close 1002`, () => buildFrame({ opcode: base + 1, payload: 'reserved' }), 1002),
      );
      out.push(echoThenFail(`4.${sub}.3`, `text, reserved ${kind} opcode ${base + 2}, ping → echo, close 1002, no pong`, () => buildFrame({ opcode: base + 2 })));
      for (const k of [4, 5]) {
        const op = base + k - 1;
        out.push(
          echoThenFail(`4.${sub}.${k}`, `text, reserved ${kind} opcode ${op} with a payload, ping → echo, close 1002, no pong`, () =>
            buildFrame({ opcode: op, payload: 'reserved' }),
          ),
        );
      }
    }
    return out;
  },
};

export const basicCategories: Category[] = [framing, pingPong, reservedBits, opcodes, writeChopping, moreReservedBits];
