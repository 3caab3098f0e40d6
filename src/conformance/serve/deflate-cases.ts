/**
 * Client mode's categories 12 and 13 (Autobahn 12.x, 13.x): the fuzzing
 * server accepts permessage-deflate (RFC 7692) and sends series of compressed
 * messages, which the client echoes, compressed or not. 12.x: five kinds of
 * data, answering the client's offer with no parameters of ours; 13.x: one kind
 * of data with the server choosing the parameters, as Autobahn's 13.1–13.7.
 * The 18 sizes and fragment sizes per group are Autobahn's; the data and the
 * count (5 messages instead of 1000) are server mode's (../cases/deflate-series.ts),
 * to keep a run short.
 */
import { DATA_SETS, DATA_SIZE, SERIES_MESSAGES, SIZES, lazy, type DataSet } from '../cases/deflate-series.js';
import type { DeflateChoice } from './deflate.js';
import { OP } from './frames.js';
import type { Reply, ServeCase } from './case-types.js';

/** What the server asks in 13.x: Autobahn's (requestNoContextTakeover, requestMaxWindowBits); window 8 is served as 9, as in server mode (zlib cannot deflate with a 256-byte window). */
const CHOICES_13: ReadonlyArray<{ text: string; choices: DeflateChoice[] }> = [
  { text: 'no parameters', choices: [{}] },
  { text: 'client_no_context_takeover; server_no_context_takeover', choices: [{ clientNoContextTakeover: true, serverNoContextTakeover: true }] },
  { text: 'client_max_window_bits=9', choices: [{ clientWindowBits: 9 }] },
  { text: 'client_max_window_bits=15', choices: [{ clientWindowBits: 15 }] },
  { text: 'client_no_context_takeover; server_no_context_takeover; client_max_window_bits=9', choices: [{ clientNoContextTakeover: true, serverNoContextTakeover: true, clientWindowBits: 9 }] },
  { text: 'client_no_context_takeover; server_no_context_takeover; client_max_window_bits=15', choices: [{ clientNoContextTakeover: true, serverNoContextTakeover: true, clientWindowBits: 15 }] },
  {
    text: 'the first the offer allows of: no context takeover both ways with client_max_window_bits=9; no context takeover both ways; no parameters',
    choices: [{ clientNoContextTakeover: true, serverNoContextTakeover: true, clientWindowBits: 9 }, { clientNoContextTakeover: true, serverNoContextTakeover: true }, {}],
  },
];

/** The case's messages: views into the data (no copies), each within it, so a text message stays ASCII. */
function messages(set: DataSet, data: () => Uint8Array, size: number): Reply[] {
  const kind = set.opcode === OP.TEXT ? 'text' : 'binary';
  const all = data();
  return Array.from({ length: SERIES_MESSAGES }, (_, i) => {
    const at = (i * size) % (DATA_SIZE - size + 1);
    return { kind, data: Buffer.from(all.buffer, all.byteOffset + at, size) };
  });
}

function seriesCase(id: string, set: DataSet, data: () => Uint8Array, choices: DeflateChoice[], chosen: string, size: number, fragment: number): ServeCase {
  return {
    id,
    description:
      `Send ${SERIES_MESSAGES} compressed messages (${set.name}) each of payload size ${size}, auto-fragment to ${fragment} octets. ` +
      `permessage-deflate accepted with ${chosen}.`,
    send: [],
    deflate: { choices, fragment },
    // Built when judged, not when the case list is: the data is 256 KiB per kind.
    get expect() {
      return { by: 'server' as const, replies: messages(set, data, size) };
    },
    timeoutMs: 30000,
  };
}

export function category12(): ServeCase[] {
  return DATA_SETS.flatMap((set, j) => {
    const data = lazy(set.make);
    return SIZES.map(([size, fragment], i) => seriesCase(`12.${j + 1}.${i + 1}`, set, data, [{}], 'the client’s offer, no parameters of the server', size, fragment));
  });
}

export function category13(): ServeCase[] {
  const set = DATA_SETS[0]!;
  const data = lazy(set.make);
  return CHOICES_13.flatMap(({ text, choices }, j) => SIZES.map(([size, fragment], i) => seriesCase(`13.${j + 1}.${i + 1}`, set, data, choices, text, size, fragment)));
}
