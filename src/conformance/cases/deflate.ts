/**
 * Categories 33 and 34 (ours): permessage-deflate (RFC 7692). 33 = negotiation
 * (Sec-WebSocket-Extensions response parameters, §7.1) with a compressed round
 * trip under the agreed parameters; 34 = compressed messages and their errors.
 * Autobahn's own 12.x/13.x (compressed echo series) are in ./deflate-series.ts.
 *
 * The server may answer compressed or uncompressed (RFC 7692 §6: compression
 * is per message); Session.message() inflates RSV1 messages itself, with the
 * window the server agreed to (server_max_window_bits) and, under
 * server_no_context_takeover, with a fresh inflater per message.
 */
import {
  OP,
  binaryFrame,
  bytes,
  closeFrame,
  concat,
  contFrame,
  deflateMessage,
  pingFrame,
  pongFrame,
  pseudoRandomBytes,
  textFrame,
  buildFrame,
} from '../frames.js';
import type { CaseContext, CaseDef, Category } from '../case-types.js';
import type { Session } from '../session.js';
import { HandshakeRejectedError } from '../target.js';
import { UnimplementedError } from '../recorder.js';
import { BINARY, TEXT, payloadFor } from './common.js';

export async function negotiate(c: CaseContext, offer: string): Promise<Session> {
  const s = await c.open({ extensions: offer });
  if (!s.deflate) throw new UnimplementedError(`permessage-deflate was not accepted for the offer ${JSON.stringify(offer)}`);
  return s;
}

function param(s: Session, name: string): { present: boolean; value?: string } {
  const p = s.deflate!.params.find(([k]) => k === name);
  return p ? (p[1] === undefined ? { present: true } : { present: true, value: p[1] }) : { present: false };
}

/** send one compressed message (optionally fragmented: RSV1 on the first frame only) */
export async function sendCompressed(s: Session, opcode: number, data: Uint8Array, o: { fragments?: number; final?: boolean } = {}): Promise<void> {
  const z = s.compress(data, o.final ? { final: true } : {});
  if (!o.fragments || o.fragments <= 1) {
    await s.send(buildFrame({ opcode, payload: z, rsv1: true }));
    return;
  }
  const frames: Uint8Array[] = [];
  const step = Math.ceil(z.length / o.fragments);
  for (let i = 0, k = 0; k < o.fragments; i += step, k++) {
    frames.push(
      buildFrame({
        opcode: k === 0 ? opcode : OP.CONT,
        payload: z.subarray(Math.min(i, z.length), Math.min(i + step, z.length)),
        fin: k === o.fragments - 1,
        rsv1: k === 0,
      }),
    );
  }
  await s.send(...frames);
}

/** compressible text of n bytes */
const compressible = (n: number, seed = 3) => payloadFor(TEXT, n, seed);

/** round trip under the agreed parameters: two similar compressible messages and a binary one */
async function roundTrips(s: Session): Promise<void> {
  const a = compressible(3000, 1);
  const b = compressible(3000, 2);
  await sendCompressed(s, OP.TEXT, a);
  await s.expectEcho(TEXT, a);
  await sendCompressed(s, OP.TEXT, b);
  await s.expectEcho(TEXT, b);
  const bin = pseudoRandomBytes(2000, 9);
  await sendCompressed(s, OP.BINARY, bin);
  await s.expectEcho(BINARY, bin);
}

/**
 * 2^bits + 512 random bytes, twice: a server that honours
 * server_max_window_bits=bits cannot reference the first copy; one that does
 * not would produce a distance our inflater (window = bits) rejects.
 */
const windowProbe = (bits: number) => {
  const block = pseudoRandomBytes((1 << bits) + 512, bits);
  return concat([block, block]);
};

const negotiation: Category = {
  id: '33',
  title: 'permessage-deflate negotiation (RFC 7692 §7.1)',
  cases(env) {
    const skip = env.deflate ? false : 'the target declares capabilities.permessageDeflate = false';
    const out: CaseDef[] = [];
    const add = (id: string, title: string, run: (c: CaseContext) => Promise<void>) => out.push({ id, title, skip, run });

    add('33.1', 'offer "permessage-deflate" → accepted, only valid parameters, no client_max_window_bits', async (c) => {
      const s = await negotiate(c, 'permessage-deflate');
      c.t.notOk(param(s, 'client_max_window_bits').present, 'no client_max_window_bits when the offer had none (§7.1.2.2)');
      await roundTrips(s);
      await s.closeNormally();
    });
    add('33.2', 'offer with client_max_window_bits (no value) → accepted; a client_max_window_bits answer has a value 8..15', async (c) => {
      const s = await negotiate(c, 'permessage-deflate; client_max_window_bits');
      const p = param(s, 'client_max_window_bits');
      if (p.present) c.t.ok(p.value !== undefined && +p.value >= 8 && +p.value <= 15, `client_max_window_bits=${p.value} is 8..15`);
      else c.t.pass('server did not limit the client window');
      await roundTrips(s);
      await s.closeNormally();
    });
    add('33.3', 'offer with server_no_context_takeover → the response includes server_no_context_takeover (§7.1.1.1)', async (c) => {
      const s = await negotiate(c, 'permessage-deflate; server_no_context_takeover');
      c.t.ok(param(s, 'server_no_context_takeover').present, 'server_no_context_takeover in the response');
      await roundTrips(s);
      await s.closeNormally();
    });
    add('33.4', 'offer with client_no_context_takeover → accepted (the server may echo it)', async (c) => {
      const s = await negotiate(c, 'permessage-deflate; client_no_context_takeover');
      c.t.pass(`response: ${s.peer.handshake.extensions}`);
      await roundTrips(s);
      await s.closeNormally();
    });
    for (let bits = 9; bits <= 15; bits++) {
      add(
        `33.5.${bits - 8}`,
        `offer server_max_window_bits=${bits} → response has server_max_window_bits <= ${bits} and the server's data respects it`,
        async (c) => {
          const s = await negotiate(c, `permessage-deflate; server_max_window_bits=${bits}`);
          const p = param(s, 'server_max_window_bits');
          c.t.ok(p.present && p.value !== undefined && +p.value <= bits && +p.value >= 8, `server_max_window_bits=${p.value} in 8..${bits} (§7.1.2.1)`, {
            found: s.peer.handshake.extensions,
          });
          const probe = windowProbe(Math.min(bits, 14));
          if (probe.length <= c.env.maxMessageSize) {
            await sendCompressed(s, OP.BINARY, probe);
            await s.expectEcho(BINARY, probe, c.env.timeoutMs * 2);
          }
          await roundTrips(s);
          await s.closeNormally();
        },
      );
    }
    add('33.6', 'offer client_max_window_bits=10 → a client_max_window_bits answer is <= 10; we compress within 2^10', async (c) => {
      const s = await negotiate(c, 'permessage-deflate; client_max_window_bits=10');
      const p = param(s, 'client_max_window_bits');
      if (p.present) c.t.ok(p.value !== undefined && +p.value >= 8 && +p.value <= 10, `client_max_window_bits=${p.value} <= 10`);
      else c.t.pass('server did not send client_max_window_bits');
      c.t.ok(s.deflate!.clientMaxWindowBits <= 10, `client compresses with window ${s.deflate!.clientMaxWindowBits}`);
      await roundTrips(s);
      await s.closeNormally();
    });
    add('33.7', 'offer with every parameter → server_no_context_takeover and server_max_window_bits <= 10 in the response', async (c) => {
      const s = await negotiate(
        c,
        'permessage-deflate; client_max_window_bits; server_max_window_bits=10; server_no_context_takeover; client_no_context_takeover',
      );
      c.t.ok(param(s, 'server_no_context_takeover').present, 'server_no_context_takeover');
      const p = param(s, 'server_max_window_bits');
      c.t.ok(p.present && +(p.value ?? 99) <= 10, `server_max_window_bits=${p.value} <= 10`);
      await roundTrips(s);
      await s.closeNormally();
    });
    add('33.8', 'two offers ("…; server_max_window_bits=10; client_max_window_bits, permessage-deflate") → exactly one accepted, valid', async (c) => {
      const s = await negotiate(c, 'permessage-deflate; server_max_window_bits=10; client_max_window_bits, permessage-deflate');
      const smwb = param(s, 'server_max_window_bits');
      if (smwb.present) c.t.ok(+(smwb.value ?? 99) <= 10, 'server_max_window_bits <= 10 (first offer)');
      else c.t.notOk(param(s, 'client_max_window_bits').present, 'second offer accepted: no client_max_window_bits');
      await roundTrips(s);
      await s.closeNormally();
    });
    add('33.9', 'offer "x-unknown-extension, permessage-deflate" → only permessage-deflate accepted', async (c) => {
      const s = await negotiate(c, 'x-unknown-extension; foo=1, permessage-deflate');
      c.t.notMatch(s.peer.handshake.extensions ?? '', /x-unknown-extension/i, 'unknown extension not in the response');
      await roundTrips(s);
      await s.closeNormally();
    });
    const invalidOffers: Array<[string, string]> = [
      ['server_max_window_bits=7 (below 8)', 'permessage-deflate; server_max_window_bits=7'],
      ['server_max_window_bits=16 (above 15)', 'permessage-deflate; server_max_window_bits=16'],
      ['server_max_window_bits without a value', 'permessage-deflate; server_max_window_bits'],
      ['client_max_window_bits=16', 'permessage-deflate; client_max_window_bits=16'],
      ['server_no_context_takeover with a value', 'permessage-deflate; server_no_context_takeover=1'],
      ['unknown parameter', 'permessage-deflate; foo=bar'],
      ['duplicated parameter', 'permessage-deflate; server_no_context_takeover; server_no_context_takeover'],
    ];
    invalidOffers.forEach(([name, offer], i) => {
      add(`33.10.${i + 1}`, `invalid offer (${name}) is declined: 101 without permessage-deflate, or a 4xx`, async (c) => {
        let s: Session;
        try {
          s = await c.open({ extensions: offer });
        } catch (e) {
          if (e instanceof HandshakeRejectedError) {
            c.t.ok(e.status >= 400 && e.status < 500, `handshake failed with 4xx (${e.status})`);
            return;
          }
          throw e;
        }
        c.t.notOk(s.deflate, `permessage-deflate not accepted (response: ${s.peer.handshake.extensions ?? 'none'})`);
        await s.expectAliveAndClose();
      });
    });
    return out;
  },
};

const messages: Category = {
  id: '34',
  title: 'permessage-deflate messages (RFC 7692 §6, §7.2)',
  cases(env) {
    const skip = env.deflate ? false : 'the target declares capabilities.permessageDeflate = false';
    const max = env.maxMessageSize;
    const out: CaseDef[] = [];
    // the cases about maxMessageSize mean nothing unless the target declared it
    const undeclared = env.limitsDeclared ? false : "the server's limits were not declared (--max-message-size)";
    const add = (id: string, title: string, run: (c: CaseContext) => Promise<void>, o: { skip?: string | false; timeoutMs?: number } = {}) =>
      out.push({ id, title, skip: skip || (o.skip ?? false), ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}), run });
    const PMD = 'permessage-deflate';

    add('34.1', 'compressed small text in one frame → echoed', async (c) => {
      const s = await negotiate(c, PMD);
      await sendCompressed(s, OP.TEXT, bytes('Hello, compressed world!'));
      await s.expectEcho(TEXT, 'Hello, compressed world!');
      await s.closeNormally();
    });
    add('34.2', 'compressed 10 KiB binary in one frame → echoed', async (c) => {
      const s = await negotiate(c, PMD);
      const d = payloadFor(BINARY, 10240);
      await sendCompressed(s, OP.BINARY, d);
      await s.expectEcho(BINARY, d);
      await s.closeNormally();
    });
    add('34.3', 'compressed 64 KiB text in 10 fragments (RSV1 on the first only) → echoed', async (c) => {
      const s = await negotiate(c, PMD);
      const d = compressible(Math.min(65536, max));
      await sendCompressed(s, OP.TEXT, d, { fragments: 10 });
      await s.expectEcho(TEXT, d);
      await s.closeNormally();
    }, { skip: env.maxFrames !== undefined && env.maxFrames < 10 ? 'limits.maxFrames < 10' : false });
    add('34.4', 'compressed binary in 3 fragments with an empty middle fragment → echoed', async (c) => {
      const s = await negotiate(c, PMD);
      const d = payloadFor(BINARY, 500);
      const z = s.compress(d);
      const h = Math.floor(z.length / 2);
      await s.send(binaryFrame(z.subarray(0, h), { fin: false, rsv1: true }), contFrame(new Uint8Array(0), { fin: false }), contFrame(z.subarray(h)));
      await s.expectEcho(BINARY, d);
      await s.closeNormally();
    }, { skip: env.maxFrames !== undefined && env.maxFrames < 3 ? 'limits.maxFrames < 3' : false });
    add('34.5', 'compressed empty text (payload 0x00) → empty text echoed', async (c) => {
      const s = await negotiate(c, PMD);
      await sendCompressed(s, OP.TEXT, new Uint8Array(0));
      await s.expectEcho(TEXT, new Uint8Array(0));
      await s.closeNormally();
    });
    add('34.6', 'uncompressed (RSV1=0) text and binary on a deflate connection → echoed', async (c) => {
      const s = await negotiate(c, PMD);
      await s.send(textFrame('plain text'), binaryFrame([1, 2, 3]));
      await s.expectEcho(TEXT, 'plain text');
      await s.expectEcho(BINARY, Uint8Array.from([1, 2, 3]));
      await s.closeNormally();
    });
    add('34.7', 'context takeover: 5 similar messages, each compressed against the previous ones → all echoed', async (c) => {
      const s = await negotiate(c, PMD);
      if (s.deflate!.clientNoContextTakeover) {
        // RFC 7692 §7.1.1.2: a server may forbid our context takeover even when we did not offer to give it up
        return c.t.informational(`the server imposed client_no_context_takeover (response ${JSON.stringify(s.peer.handshake.extensions)}): context takeover cannot be tested`);
      }
      const base = compressible(2000, 5);
      const standalone = deflateMessage(base).length;
      for (let i = 0; i < 5; i++) {
        const d = concat([base, bytes(` #${i}`)]);
        await sendCompressed(s, OP.TEXT, d);
        await s.expectEcho(TEXT, d);
      }
      // the case only means something if our compressor really used the history
      const again = s.compress(concat([base, bytes(' #5')]));
      c.t.ok(again.length < standalone / 2, `history was used (${again.length} < ${standalone}/2 bytes)`);
      await s.send(textFrame(again, { rsv1: true }));
      await s.expectEcho(TEXT, concat([base, bytes(' #5')]));
      await s.closeNormally();
    });
    add('34.8', 'compressed, uncompressed, compressed-with-history in ONE write → all echoed (uncompressed data is not in the LZ77 window)', async (c) => {
      const s = await negotiate(c, PMD);
      const a = compressible(1500, 8);
      const za = s.compress(a);
      const zb = s.compress(a); // references a
      await s.send(textFrame(za, { rsv1: true }), textFrame('interleaved plain text'), textFrame(zb, { rsv1: true }));
      await s.expectEcho(TEXT, a);
      await s.expectEcho(TEXT, 'interleaved plain text');
      await s.expectEcho(TEXT, a);
      await s.closeNormally();
    });
    add('34.9', 'server_no_context_takeover: the same 4 KiB message 3 times; each reply inflates with a fresh inflater', async (c) => {
      const s = await negotiate(c, `${PMD}; server_no_context_takeover`);
      c.t.ok(s.deflate!.serverNoContextTakeover, 'server_no_context_takeover agreed');
      const d = compressible(4096, 11);
      let compressed = 0;
      for (let i = 0; i < 3; i++) {
        await sendCompressed(s, OP.TEXT, d);
        const m = await s.expectEcho(TEXT, d);
        if (m.compressed) compressed++;
      }
      c.t.comment(`${compressed} of 3 replies were compressed`);
      await s.closeNormally();
    });
    add('34.10', 'context takeover from the server: the same 4 KiB message 3 times; replies inflate with the shared history', async (c) => {
      const s = await negotiate(c, PMD);
      const d = compressible(4096, 12);
      for (let i = 0; i < 3; i++) {
        await sendCompressed(s, OP.TEXT, d);
        await s.expectEcho(TEXT, d);
      }
      await s.closeNormally();
    });
    add('34.11', 'client_no_context_takeover: messages compressed independently → echoed', async (c) => {
      const s = await negotiate(c, `${PMD}; client_no_context_takeover`);
      for (let i = 0; i < 3; i++) {
        const d = compressible(2048, 20 + i);
        await sendCompressed(s, OP.TEXT, d);
        await s.expectEcho(TEXT, d);
      }
      await s.closeNormally();
    });
    add('34.12', 'client_max_window_bits=9: we compress with a 512-byte window → echoed', async (c) => {
      const s = await negotiate(c, `${PMD}; client_max_window_bits=9`);
      const d = compressible(8192, 30);
      await sendCompressed(s, OP.TEXT, d);
      await s.expectEcho(TEXT, d);
      await s.closeNormally();
    });
    add('34.13', 'message ending in a BFINAL=1 block (RFC 7692 §7.2.3.4) under client_no_context_takeover → echoed', async (c) => {
      const s = await negotiate(c, `${PMD}; client_no_context_takeover`);
      const d = compressible(1000, 31);
      await sendCompressed(s, OP.TEXT, d, { final: true });
      await s.expectEcho(TEXT, d);
      const e = compressible(1000, 32);
      await sendCompressed(s, OP.TEXT, e, { final: true });
      await s.expectEcho(TEXT, e);
      await s.closeNormally();
    });
    add('34.14', 'RSV1 on a continuation frame → close 1002 (RFC 7692 §6.1)', async (c) => {
      const s = await negotiate(c, PMD);
      const z = s.compress(compressible(500));
      await s.send(textFrame(z.subarray(0, 10), { fin: false, rsv1: true }), contFrame(z.subarray(10), { rsv1: true }));
      await s.expectFail(1002);
    });
    add('34.15', 'RSV1 on a continuation of an uncompressed message → close 1002', async (c) => {
      const s = await negotiate(c, PMD);
      await s.send(textFrame('plain', { fin: false }), contFrame('text', { rsv1: true }));
      await s.expectFail(1002);
    });
    add('34.16', 'RSV1 on a ping → close 1002 (no pong)', async (c) => {
      const s = await negotiate(c, PMD);
      await s.send(pingFrame(deflateMessage(bytes('ping')), { rsv1: true }));
      await s.expectFail(1002);
    });
    add('34.17', 'RSV1 on a pong → close 1002', async (c) => {
      const s = await negotiate(c, PMD);
      await s.send(pongFrame('x', { rsv1: true }));
      await s.expectFail(1002);
    });
    add('34.18', 'RSV1 on a close frame → close 1002', async (c) => {
      const s = await negotiate(c, PMD);
      await s.send(closeFrame(1000, '', { rsv1: true }));
      await s.expectFail(1002);
    });
    add('34.19', 'RSV2 on a text frame with permessage-deflate negotiated → close 1002', async (c) => {
      const s = await negotiate(c, PMD);
      await s.send(textFrame('x', { rsv2: true }));
      await s.expectFail(1002);
    });
    add(`34.20`, `invalid compressed data (reserved block type) → close ${env.invalidDeflateCloseCodes.join(' or ')}`, async (c) => {
      const s = await negotiate(c, PMD);
      await s.send(binaryFrame([0xff, 0xff, 0xff, 0xff], { rsv1: true }));
      await s.expectFail(c.env.invalidDeflateCloseCodes);
    });
    add(`34.21`, `invalid compressed data (bad stored block length) → close ${env.invalidDeflateCloseCodes.join(' or ')}`, async (c) => {
      const s = await negotiate(c, PMD);
      await s.send(textFrame([0x00, 0x05, 0x00, 0x05, 0x00, 0x41], { rsv1: true }));
      await s.expectFail(c.env.invalidDeflateCloseCodes);
    });
    add('34.22', 'compressed text that inflates to invalid UTF-8 → close 1007', async (c) => {
      const s = await negotiate(c, PMD);
      await sendCompressed(s, OP.TEXT, Uint8Array.from([0x68, 0x69, 0xed, 0xa0, 0x80, 0x21]));
      await s.expectFail(1007);
    });
    add('34.23', `compressed message inflating to exactly maxMessageSize (${max}) → echoed`, async (c) => {
      const s = await negotiate(c, PMD);
      const d = new Uint8Array(max).fill(0x61);
      await sendCompressed(s, OP.BINARY, d);
      await s.expectEcho(BINARY, d, c.env.timeoutMs * 5);
      await s.closeNormally();
    }, { timeoutMs: 30000, skip: undeclared });
    add('34.24', 'compressed message inflating to maxMessageSize + 1 → close 1009', async (c) => {
      const s = await negotiate(c, PMD);
      await sendCompressed(s, OP.BINARY, new Uint8Array(max + 1).fill(0x61));
      await s.expectFail(1009);
    }, { skip: undeclared });
    add('34.25', 'compression bomb: a few KiB inflating to 4 x maxMessageSize → close 1009', async (c) => {
      const s = await negotiate(c, PMD);
      const bomb = s.compress(new Uint8Array(max * 4));
      c.t.ok(bomb.length < max, `bomb is ${bomb.length} bytes on the wire`);
      await s.send(binaryFrame(bomb, { rsv1: true }));
      await s.expectFail(1009);
    }, { skip: undeclared });
    add('34.26', 'compressed message over the limit sent as fragments (each small) → close 1009', async (c) => {
      const s = await negotiate(c, PMD);
      await sendCompressed(s, OP.TEXT, new Uint8Array(max * 2).fill(0x62), { fragments: 4 });
      await s.expectFail(1009);
    }, { skip: undeclared || (env.maxFrames !== undefined && env.maxFrames < 4 ? 'limits.maxFrames < 4' : false) });
    return out;
  },
};

export const deflateCategories: Category[] = [negotiation, messages];
