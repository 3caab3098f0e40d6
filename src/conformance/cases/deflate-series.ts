/**
 * Categories 12 and 13 (Autobahn 12.x, 13.x): series of compressed messages
 * echoed under permessage-deflate (RFC 7692), for 18 message-size /
 * fragment-size combinations. 12.x: five kinds of data with the default offer;
 * 13.x: one kind of data under seven offers. A server that declines
 * permessage-deflate gets UNIMPLEMENTED, as in Autobahn.
 *
 * Differences from Autobahn, to keep a run under a minute: 5 messages per
 * case instead of 1000, and generated data instead of Autobahn's files (Faust,
 * an image, a PDF, JSON, HTML), with similar compressibility.
 */
import { OP, asciiText, buildFrame, bytes, equalBytes, prng, pseudoRandomBytes } from '../frames.js';
import type { CaseDef, CaseEnv, Category } from '../case-types.js';
import type { Session } from '../session.js';
import { negotiate } from './deflate.js';

export const SERIES_MESSAGES = 5;

/** Autobahn's MSG_SIZES: (message size, auto-fragment size; 0 = one frame) */
export const SIZES: ReadonlyArray<readonly [number, number]> = [
  [16, 0], [64, 0], [256, 0], [1024, 0], [4096, 0], [8192, 0], [16384, 0], [32768, 0], [65536, 0], [131072, 0],
  [8192, 256], [16384, 256], [32768, 256], [65536, 256], [131072, 256], [131072, 1024], [131072, 4096], [131072, 32768],
];

export interface DataSet {
  name: string;
  opcode: number;
  make(): Uint8Array;
}

export const DATA_SIZE = 256 * 1024;

function jsonData(): Uint8Array {
  const r = prng(12);
  const items: string[] = [];
  let n = 0;
  for (let i = 0; n < DATA_SIZE; i++) {
    const item = JSON.stringify({ id: i, name: `item-${Math.floor(r() * 1000)}`, price: Math.round(r() * 10000) / 100, tags: ['a', 'b', 'c'].slice(0, 1 + Math.floor(r() * 3)), active: r() > 0.5 });
    items.push(item);
    n += item.length + 1;
  }
  return bytes(`[${items.join(',')}]`).subarray(0, DATA_SIZE);
}

function bitmapData(): Uint8Array {
  // smooth gradients with a little noise, like a greyscale picture
  const r = prng(13);
  const out = new Uint8Array(DATA_SIZE);
  for (let i = 0; i < out.length; i++) out[i] = ((i % 512) / 2 + (i >> 9) / 4 + r() * 8) & 0xff;
  return out;
}

function htmlData(): Uint8Array {
  const r = prng(14);
  const rows: string[] = ['<!DOCTYPE html><html><head><title>data</title></head><body><table>'];
  let n = 0;
  while (n < DATA_SIZE) {
    const row = `<tr class="row${Math.floor(r() * 3)}"><td>${Math.floor(r() * 100000)}</td><td><a href="/item/${Math.floor(r() * 1000)}">item</a></td></tr>\n`;
    rows.push(row);
    n += row.length;
  }
  return bytes(rows.join('')).subarray(0, DATA_SIZE);
}

export const DATA_SETS: DataSet[] = [
  { name: 'JSON text', opcode: OP.TEXT, make: jsonData },
  { name: 'bitmap-like binary', opcode: OP.BINARY, make: bitmapData },
  { name: 'human-readable text', opcode: OP.TEXT, make: () => bytes(asciiText(DATA_SIZE, 15)) },
  { name: 'HTML text', opcode: OP.TEXT, make: htmlData },
  { name: 'incompressible binary (like a PDF)', opcode: OP.BINARY, make: () => pseudoRandomBytes(DATA_SIZE, 16) },
];

/** Autobahn's default client offer: accepts client_no_context_takeover and client_max_window_bits. */
const DEFAULT_OFFER = 'permessage-deflate; client_no_context_takeover; client_max_window_bits';

/** Autobahn 13.1-13.7: what the client requests of the server. */
const OFFERS: string[] = [
  DEFAULT_OFFER,
  `${DEFAULT_OFFER}; server_no_context_takeover`,
  `${DEFAULT_OFFER}; server_max_window_bits=9`,
  `${DEFAULT_OFFER}; server_max_window_bits=15`,
  `${DEFAULT_OFFER}; server_no_context_takeover; server_max_window_bits=9`,
  `${DEFAULT_OFFER}; server_no_context_takeover; server_max_window_bits=15`,
  `${DEFAULT_OFFER}; server_no_context_takeover; server_max_window_bits=9, ${DEFAULT_OFFER}; server_no_context_takeover, ${DEFAULT_OFFER}`,
];

/** Text messages cut out of the data must stay valid UTF-8: the generated text data is ASCII. */
function slices(data: Uint8Array, size: number, count: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    const end = at + size;
    out.push(end <= data.length ? data.subarray(at, end) : Uint8Array.from([...data.subarray(at), ...data.subarray(0, end - data.length)]));
    at = end % data.length;
  }
  return out;
}

async function sendCompressedFragments(s: Session, opcode: number, data: Uint8Array, fragment: number): Promise<void> {
  const z = s.compress(data);
  if (fragment === 0 || z.length <= fragment) {
    await s.peer.write(buildFrame({ opcode, payload: z, rsv1: true }));
    return;
  }
  const frames: Uint8Array[] = [];
  for (let i = 0; i < z.length; i += fragment) {
    frames.push(buildFrame({ opcode: i === 0 ? opcode : OP.CONT, payload: z.subarray(i, i + fragment), fin: i + fragment >= z.length, rsv1: i === 0 }));
  }
  await s.send(...frames);
}

function seriesCase(id: string, env: CaseEnv, set: DataSet, data: () => Uint8Array, offer: string, size: number, fragment: number): CaseDef {
  // incompressible data grows a little under DEFLATE: plan for the worst case
  const frames = fragment ? Math.ceil((size + (size >> 8) + 16) / fragment) : 1;
  const skip = !env.deflate
    ? 'the target declares capabilities.permessageDeflate = false'
    : size > env.maxMessageSize
      ? `a ${size}-byte message exceeds the declared maxMessageSize`
      : env.maxFrames !== undefined && frames > env.maxFrames
        ? `up to ${frames} frames per message exceed the declared maxFrames (${env.maxFrames})`
        : false;
  return {
    skip,
    id,
    title: `${SERIES_MESSAGES} compressed ${set.name} messages of ${size} bytes${fragment ? `, auto-fragmented to ${fragment} octets` : ''}; offer "${offer}"`,
    timeoutMs: 30000,
    run: async (c) => {
      const s = await negotiate(c, offer);
      const started = performance.now();
      for (const m of slices(data(), size, SERIES_MESSAGES)) {
        await sendCompressedFragments(s, set.opcode, m, fragment);
        const echo = await s.message(c.env.timeoutMs * 2);
        if (echo.opcode !== set.opcode || !equalBytes(echo.data, m)) {
          c.t.fail(`echo differs from what was sent (${echo.data.length} bytes, opcode ${echo.opcode})`);
          return;
        }
      }
      c.t.result(`${SERIES_MESSAGES} echoes in ${(performance.now() - started).toFixed(1)} ms; response ${JSON.stringify(s.peer.handshake.extensions)}`);
      await s.closeNormally();
    },
  };
}

export function lazy(make: () => Uint8Array): () => Uint8Array {
  let v: Uint8Array | undefined;
  return () => (v ??= make());
}

export const deflateSeriesCategories: Category[] = [
  {
    id: '12',
    title: 'permessage-deflate: compressed echo series, default offer (Autobahn 12.x)',
    cases(env) {
      return DATA_SETS.flatMap((set, j) => {
        const data = lazy(set.make);
        return SIZES.map(([size, frag], i) => seriesCase(`12.${j + 1}.${i + 1}`, env, set, data, DEFAULT_OFFER, size, frag));
      });
    },
  },
  {
    id: '13',
    title: 'permessage-deflate: compressed echo series under different offers (Autobahn 13.x)',
    cases(env) {
      const data = lazy(DATA_SETS[0]!.make);
      return OFFERS.flatMap((offer, j) => SIZES.map(([size, frag], i) => seriesCase(`13.${j + 1}.${i + 1}`, env, DATA_SETS[0]!, data, offer, size, frag)));
    },
  },
];
