/**
 * permessage-deflate (RFC 7692) for the fuzzing server's categories 12 and
 * 13, with the conformance toolkit's own zlib helpers (../frames.ts, no code
 * of src/protocol): reading the client's offers, answering one with the
 * parameters a case chooses, compressing the server's messages and inflating
 * the client's echoes under the negotiated window and context rules.
 */
import { DeflateHistory, deflateMessage, inflateMessage } from '../frames.js';

/** What the server asks of the client and promises itself (Autobahn's requestNoContextTakeover, requestMaxWindowBits). */
export interface DeflateChoice {
  clientNoContextTakeover?: boolean;
  /** client_max_window_bits=N; only possible when the offer has client_max_window_bits (RFC 7692 §7.1.2.2). */
  clientWindowBits?: number;
  serverNoContextTakeover?: boolean;
}

/** The parameters in force once the server answered (RFC 7692 §7.1). */
export interface DeflateParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverWindowBits: number;
  clientWindowBits: number;
}

export interface Negotiation {
  /** The Sec-WebSocket-Extensions response. */
  header: string;
  params: DeflateParams;
}

type Offer = Map<string, string | true>;

const WINDOW = /^(?:[89]|1[0-5])$/;

/**
 * The client's permessage-deflate offers, in its order of preference; an offer
 * with an unknown, repeated or invalid parameter is left out (RFC 7692 §5:
 * the server declines such an offer).
 */
export function deflateOffers(header: string | undefined): Offer[] {
  const offers: Offer[] = [];
  for (const item of (header ?? '').split(',')) {
    const [name, ...rest] = item.split(';').map((part) => part.trim());
    if (name?.toLowerCase() !== 'permessage-deflate') continue;
    const offer: Offer = new Map();
    let valid = true;
    for (const part of rest) {
      const eq = part.indexOf('=');
      const key = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
      const value = eq < 0 ? true : part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
      const known =
        ((key === 'server_no_context_takeover' || key === 'client_no_context_takeover') && value === true) ||
        (key === 'server_max_window_bits' && value !== true && WINDOW.test(value)) ||
        (key === 'client_max_window_bits' && (value === true || WINDOW.test(value)));
      if (!known || offer.has(key)) valid = false;
      offer.set(key, value);
    }
    if (valid) offers.push(offer);
  }
  return offers;
}

/**
 * Accepts the first offer that one of `choices` (tried in order, as Autobahn's
 * 13.7 does) can answer; undefined when the client offered nothing acceptable.
 */
export function negotiateDeflate(header: string | undefined, choices: readonly DeflateChoice[]): Negotiation | undefined {
  for (const offer of deflateOffers(header)) {
    for (const choice of choices) {
      if (choice.clientWindowBits !== undefined && !offer.has('client_max_window_bits')) continue;
      const params: string[] = [];
      const serverNoContextTakeover = offer.has('server_no_context_takeover') || choice.serverNoContextTakeover === true;
      if (serverNoContextTakeover) params.push('server_no_context_takeover');
      // §7.1.2.1: a server_max_window_bits offer is accepted by answering it; we keep the client's value.
      const serverBits = offer.get('server_max_window_bits');
      const serverWindowBits = typeof serverBits === 'string' ? Number(serverBits) : 15;
      if (typeof serverBits === 'string') params.push(`server_max_window_bits=${serverBits}`);
      if (choice.clientNoContextTakeover) params.push('client_no_context_takeover');
      let clientWindowBits = 15;
      if (choice.clientWindowBits !== undefined) {
        // §7.1.2.2: the answer may not exceed a value the client offered.
        const offered = offer.get('client_max_window_bits');
        clientWindowBits = Math.min(choice.clientWindowBits, typeof offered === 'string' ? Number(offered) : 15);
        params.push(`client_max_window_bits=${clientWindowBits}`);
      } else if (typeof offer.get('client_max_window_bits') === 'string') {
        // The client announced it compresses with at most this window: judge it by that.
        clientWindowBits = Number(offer.get('client_max_window_bits'));
      }
      return {
        header: ['permessage-deflate', ...params].join('; '),
        params: { serverNoContextTakeover, clientNoContextTakeover: choice.clientNoContextTakeover === true, serverWindowBits, clientWindowBits },
      };
    }
  }
  return undefined;
}

/** Describes the parameters for a case's observations. */
export const describeParams = (p: DeflateParams): string =>
  `server window ${p.serverWindowBits}${p.serverNoContextTakeover ? ', no context takeover' : ''}; client window ${p.clientWindowBits}${p.clientNoContextTakeover ? ', no context takeover' : ''}`;

/** The server's compressor: one message at a time, keeping its LZ77 window across messages unless told not to (§7.2.1). */
export class ServerDeflater {
  private readonly history: DeflateHistory;
  constructor(private readonly params: DeflateParams) {
    this.history = new DeflateHistory(1 << params.serverWindowBits);
  }
  compress(data: Uint8Array): Uint8Array {
    if (this.params.serverNoContextTakeover) return deflateMessage(data, { windowBits: this.params.serverWindowBits });
    const out = deflateMessage(data, { windowBits: this.params.serverWindowBits, dictionary: this.history.bytes });
    this.history.append(data);
    return out;
  }
}

/**
 * The client's compressed messages inflated as the client's decompressor peer
 * would (§7.2.2): with the window it may use, and the uncompressed bytes of
 * its earlier compressed messages as the context, unless
 * client_no_context_takeover was answered.
 */
export class ClientInflater {
  private readonly history: DeflateHistory;
  constructor(
    private readonly params: DeflateParams,
    private readonly maxOutputLength: number,
  ) {
    this.history = new DeflateHistory(1 << params.clientWindowBits);
  }
  /** Throws when the data is no valid DEFLATE, reaches beyond the window, or inflates beyond the limit. */
  inflate(data: Uint8Array): Buffer {
    const dictionary = this.params.clientNoContextTakeover ? undefined : this.history.bytes;
    const out = inflateMessage(data, { windowBits: this.params.clientWindowBits, maxOutputLength: this.maxOutputLength, ...(dictionary ? { dictionary } : {}) });
    if (!this.params.clientNoContextTakeover) this.history.append(out);
    return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  }
}
