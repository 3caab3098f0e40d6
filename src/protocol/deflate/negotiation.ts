/**
 * permessage-deflate parameter negotiation (RFC 7692 §5, §7.1). Pure
 * functions: no zlib here.
 *
 * Vocabulary (RFC 7692 §5): the client sends *offers*, the server accepts at
 * most one of them with a *response*; the agreed parameters of the session
 * are a `DeflateParams`.
 */
import type { ExtensionOffer, ExtensionParamValue } from '../extension-header.js';
import { formatExtension } from '../extension-header.js';

export const EXTENSION_NAME = 'permessage-deflate';

/** User configuration of permessage-deflate (server or client). */
export interface DeflateOptions {
  /** Server: always ask for it in the response. Client: request it in the offer. Default false. */
  serverNoContextTakeover?: boolean;
  /** Server: always put it in the response. Client: offer (promise) it. Default false. */
  clientNoContextTakeover?: boolean;
  /** Largest window the server's compressor may use, 9..15. Default 15. */
  serverMaxWindowBits?: number;
  /** Largest window the client's compressor may use, 9..15. Default 15. */
  clientMaxWindowBits?: number;
  /** Messages smaller than this many bytes are sent uncompressed. Default 1024. */
  threshold?: number;
  /** zlib compression level, 0..9. Default 6. */
  level?: number;
  /** zlib memLevel, 1..9. Default 8. */
  memLevel?: number;
  /** Max zlib jobs running at once across sessions sharing a limiter. Default 10. */
  concurrency?: number;
}

/** The agreed parameters of one session. */
export interface DeflateParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  /** 8..15: the largest window the server's compressor may use. */
  serverMaxWindowBits: number;
  /** 8..15: the largest window the client's compressor may use. */
  clientMaxWindowBits: number;
}

/**
 * Defaults, with the reasons:
 * - window bits 15: the RFC 7692 default when a parameter is absent (§7.1.2).
 * - threshold 1024: below ~1 KiB the deflate block overhead and the zlib
 *   thread-pool round trip cost more than the bytes saved.
 * - level 6: zlib's own default (Z_DEFAULT_COMPRESSION, also what `ws`
 *   ends up using). For the small messages typical of WebSocket traffic the
 *   fixed cost of a thread-pool round trip dominates: measured on this
 *   implementation with 2 KiB JSON messages, level 6 output was ~40% smaller
 *   than level 1 for ~15% more CPU. Level 1 pays off for large messages
 *   (about 3x less CPU at 256 KiB), so it stays configurable.
 * - memLevel 8: zlib's default (Z_DEFAULT_MEMLEVEL).
 * - concurrency 10: the same bound as `ws`; it limits memory fragmentation
 *   from many zlib jobs queued on libuv's thread pool (4 threads by default).
 *
 * Memory of an idle session (measured: 200 server sessions, one 2 KB message
 * each way, RSS growth per session). With context takeover the session must
 * keep its compressor and inflater (their windows are the protocol's state):
 * ~270 KiB at 15 window bits, ~155 KiB at 12, ~140 KiB at 10; memLevel 4
 * instead of 8 saves under 10 KiB, so it stays at zlib's default. Without
 * context takeover the streams go back to a shared pool after each message
 * (zlib-pool.ts) and the session keeps none. A server holding many idle
 * compressed sessions sets serverNoContextTakeover / clientNoContextTakeover
 * or smaller windows; the defaults stay RFC 7692's, which compress best.
 */
export const DEFLATE_DEFAULTS: Readonly<Required<DeflateOptions>> = Object.freeze({
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
  threshold: 1024,
  level: 6,
  memLevel: 8,
  concurrency: 10,
});

function checkInt(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`permessage-deflate option ${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

function checkBool(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') {
    throw new TypeError(`permessage-deflate option ${name} must be a boolean, got ${String(value)}`);
  }
  return value;
}

/**
 * Fill in defaults and validate. Window bits are restricted to 9..15 because
 * zlib silently turns a raw-deflate window of 8 into 9, so a window of 8 can
 * neither be honoured by our compressor nor sensibly requested of a zlib peer.
 *
 * @throws RangeError / TypeError on an invalid configuration.
 */
export function resolveDeflateOptions(options: DeflateOptions = {}): Required<DeflateOptions> {
  const o = { ...DEFLATE_DEFAULTS };
  for (const key of Object.keys(options) as Array<keyof DeflateOptions>) {
    const value = options[key];
    if (value !== undefined) (o as Record<string, unknown>)[key] = value;
  }
  checkBool('serverNoContextTakeover', o.serverNoContextTakeover);
  checkBool('clientNoContextTakeover', o.clientNoContextTakeover);
  checkInt('serverMaxWindowBits', o.serverMaxWindowBits, 9, 15);
  checkInt('clientMaxWindowBits', o.clientMaxWindowBits, 9, 15);
  if (typeof o.threshold !== 'number' || Number.isNaN(o.threshold) || o.threshold < 0) {
    throw new RangeError(`permessage-deflate option threshold must be a number >= 0, got ${String(o.threshold)}`);
  }
  checkInt('level', o.level, 0, 9);
  checkInt('memLevel', o.memLevel, 1, 9);
  if (o.concurrency !== Infinity) checkInt('concurrency', o.concurrency, 1, Number.MAX_SAFE_INTEGER);
  return o;
}

/**
 * RFC 7692 §7.1.2.1 / §7.1.2.2: a window-bits value is "a decimal integer
 * value without leading zeroes between 8 to 15 inclusive". Returns the number
 * or null when the value is not of that form.
 */
function parseWindowBits(value: string): number | null {
  return /^(?:[89]|1[0-5])$/.test(value) ? Number(value) : null;
}

const KNOWN_PARAMS = new Set([
  'server_no_context_takeover',
  'client_no_context_takeover',
  'server_max_window_bits',
  'client_max_window_bits',
]);

/** The four parameters of one offer or response, checked for duplicates and unknown names. */
interface RawParams {
  serverNoContextTakeover?: ExtensionParamValue;
  clientNoContextTakeover?: ExtensionParamValue;
  serverMaxWindowBits?: ExtensionParamValue;
  clientMaxWindowBits?: ExtensionParamValue;
}

const FIELD: Record<string, keyof RawParams> = {
  server_no_context_takeover: 'serverNoContextTakeover',
  client_no_context_takeover: 'clientNoContextTakeover',
  server_max_window_bits: 'serverMaxWindowBits',
  client_max_window_bits: 'clientMaxWindowBits',
};

/** Returns the parameters, or an error string (unknown or duplicate parameter). */
function collectParams(params: ExtensionOffer['params']): RawParams | string {
  const raw: RawParams = {};
  for (const [name, value] of params) {
    if (!KNOWN_PARAMS.has(name)) return `unknown parameter "${name}"`;
    const field = FIELD[name]!;
    if (raw[field] !== undefined) return `duplicate parameter "${name}"`;
    raw[field] = value;
  }
  return raw;
}

// ---------------------------------------------------------------------------
// Server side
// ---------------------------------------------------------------------------

/**
 * Decide one offer. Returns the agreed parameters, or null when the offer
 * must be declined (RFC 7692 §7: unknown parameter, invalid value, duplicate
 * parameter, or a configuration we do not support).
 */
function acceptOne(offer: ExtensionOffer, o: Required<DeflateOptions>): { params: DeflateParams; response: string } | null {
  const raw = collectParams(offer.params);
  if (typeof raw === 'string') return null;

  // §7.1.1.1 / §7.1.1.2: the no_context_takeover parameters have no value.
  if (raw.serverNoContextTakeover !== undefined && raw.serverNoContextTakeover !== true) return null;
  if (raw.clientNoContextTakeover !== undefined && raw.clientNoContextTakeover !== true) return null;

  // §7.1.2.1: server_max_window_bits in an offer must have a valid value.
  let offeredServerBits = 15;
  if (raw.serverMaxWindowBits !== undefined) {
    if (raw.serverMaxWindowBits === true) return null;
    const n = parseWindowBits(raw.serverMaxWindowBits);
    if (n === null) return null;
    offeredServerBits = n;
  }

  // §7.1.2.2: client_max_window_bits in an offer may have no value ("I
  // support the parameter"), or a valid value (a hint: the client will not
  // use a larger window anyway).
  let offeredClientBits = 15;
  if (raw.clientMaxWindowBits !== undefined && raw.clientMaxWindowBits !== true) {
    const n = parseWindowBits(raw.clientMaxWindowBits);
    if (n === null) return null;
    offeredClientBits = n;
  }

  // §7.1.2.1: the server must compress with a window no larger than the
  // offered value. zlib turns a raw-deflate window of 8 into 9, so we cannot
  // honour 8: decline this offer (the next one, or no compression, is used).
  const serverBits = Math.min(offeredServerBits, o.serverMaxWindowBits);
  if (serverBits < 9) return null;

  const response: Array<[string, ExtensionParamValue]> = [];

  // §7.1.1.1: an offered server_no_context_takeover is accepted by echoing
  // it; a server may also add it on its own.
  const serverNoContextTakeover = raw.serverNoContextTakeover === true || o.serverNoContextTakeover;
  if (serverNoContextTakeover) response.push(['server_no_context_takeover', true]);

  // §7.1.1.2: the server may always include client_no_context_takeover. When
  // the client offered it (a promise not to use context takeover) we echo it
  // so that both sides agree explicitly and our inflater can reset.
  const clientNoContextTakeover = raw.clientNoContextTakeover === true || o.clientNoContextTakeover;
  if (clientNoContextTakeover) response.push(['client_no_context_takeover', true]);

  // §7.1.2.1: a server accepts an offered server_max_window_bits by
  // including it with the same or a smaller value, and may include it when
  // it was not offered.
  if (raw.serverMaxWindowBits !== undefined || serverBits < 15) {
    response.push(['server_max_window_bits', String(serverBits)]);
  }

  // §7.1.2.2: only if the client offered client_max_window_bits may the
  // response contain it, with a value no larger than an offered value. If the
  // client did not offer it, it may use a 15-bit window whatever our option.
  let clientBits = 15;
  if (raw.clientMaxWindowBits !== undefined) {
    clientBits = Math.min(offeredClientBits, o.clientMaxWindowBits);
    if (raw.clientMaxWindowBits !== true || clientBits < 15) {
      response.push(['client_max_window_bits', String(clientBits)]);
    }
  }

  return {
    params: { serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits: serverBits, clientMaxWindowBits: clientBits },
    response: formatExtension(EXTENSION_NAME, response),
  };
}

/**
 * Server: pick the first permessage-deflate offer we can accept (RFC 7692
 * §5: the client lists offers in order of preference, and the server accepts
 * at most one). Offers of other extensions are ignored here.
 *
 * Returns null when no offer is acceptable: the server then declines the
 * extension and simply omits it from its response (§7: "decline", not "fail
 * the handshake").
 *
 * @param offers parsed |Sec-WebSocket-Extensions| of the request.
 * @throws RangeError / TypeError only for an invalid `options` object.
 */
export function acceptDeflateOffer(
  offers: readonly ExtensionOffer[],
  options: DeflateOptions,
): { params: DeflateParams; response: string } | null {
  const o = resolveDeflateOptions(options);
  for (const offer of offers) {
    if (offer.name !== EXTENSION_NAME) continue;
    const accepted = acceptOne(offer, o);
    if (accepted) return accepted;
  }
  return null;
}

// ---------------------------------------------------------------------------
// Client side
// ---------------------------------------------------------------------------

/** What our client offer contains; the same object builds the header and checks the response. */
interface ClientOffer {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  /** Requested limit for the server's window, or undefined when not requested. */
  serverMaxWindowBits: number | undefined;
  /** `true`: offered without a value; a number: offered with that value; undefined: not offered. */
  clientMaxWindowBits: number | true | undefined;
}

/**
 * client_max_window_bits is always offered (§7.1.2.2): it tells the server we
 * can limit our compressor's window (zlib can, for 9..15), and with a value
 * below 15 it is also our promise not to use a larger one.
 * server_max_window_bits is only requested below 15, its default.
 */
function clientOffer(o: Required<DeflateOptions>): ClientOffer {
  return {
    serverNoContextTakeover: o.serverNoContextTakeover,
    clientNoContextTakeover: o.clientNoContextTakeover,
    serverMaxWindowBits: o.serverMaxWindowBits < 15 ? o.serverMaxWindowBits : undefined,
    clientMaxWindowBits: o.clientMaxWindowBits < 15 ? o.clientMaxWindowBits : true,
  };
}

/**
 * Client: the permessage-deflate offer for the request's
 * |Sec-WebSocket-Extensions| header, e.g. `permessage-deflate; client_max_window_bits`.
 */
export function deflateOfferHeader(options: DeflateOptions): string {
  const offer = clientOffer(resolveDeflateOptions(options));
  const params: Array<[string, ExtensionParamValue]> = [];
  if (offer.serverNoContextTakeover) params.push(['server_no_context_takeover', true]);
  if (offer.clientNoContextTakeover) params.push(['client_no_context_takeover', true]);
  if (offer.serverMaxWindowBits !== undefined) params.push(['server_max_window_bits', String(offer.serverMaxWindowBits)]);
  if (offer.clientMaxWindowBits !== undefined) {
    params.push(['client_max_window_bits', offer.clientMaxWindowBits === true ? true : String(offer.clientMaxWindowBits)]);
  }
  return formatExtension(EXTENSION_NAME, params);
}

function fail(message: string): never {
  throw new Error(`Invalid permessage-deflate response: ${message}`);
}

/**
 * Client: check the server's |Sec-WebSocket-Extensions| response against the
 * offer `deflateOfferHeader(options)` made.
 *
 * Returns null when the server did not accept permessage-deflate (no
 * extension in the response), or the agreed parameters.
 *
 * @throws Error with a precise message when the response is invalid; the
 *   client must then _Fail the WebSocket Connection_ (RFC 6455 §4.1 item 5,
 *   §9.1; RFC 7692 §5 and §7).
 */
export function acceptDeflateResponse(response: readonly ExtensionOffer[], options: DeflateOptions): DeflateParams | null {
  const offer = clientOffer(resolveDeflateOptions(options));
  if (response.length === 0) return null;

  // RFC 6455 §4.1 item 5: an extension we did not request fails the
  // connection. We only ever offer permessage-deflate, and a server accepts
  // at most one offer of it (RFC 7692 §5).
  for (const ext of response) {
    if (ext.name !== EXTENSION_NAME) fail(`the server selected extension "${ext.name}", which was not offered`);
  }
  if (response.length > 1) fail('permessage-deflate appears more than once');

  const raw = collectParams(response[0]!.params);
  if (typeof raw === 'string') fail(raw);

  if (raw.serverNoContextTakeover !== undefined && raw.serverNoContextTakeover !== true) {
    fail('server_no_context_takeover must not have a value');
  }
  if (raw.clientNoContextTakeover !== undefined && raw.clientNoContextTakeover !== true) {
    fail('client_no_context_takeover must not have a value');
  }

  // §7.1.1.1: a server accepts a requested server_no_context_takeover by
  // including it; a response without it does not accept our offer. It may
  // include it unrequested (the server then just resets more often).
  const serverNoContextTakeover = raw.serverNoContextTakeover === true;
  if (offer.serverNoContextTakeover && !serverNoContextTakeover) {
    fail('server_no_context_takeover was requested but the response does not include it');
  }

  // §7.1.2.1: the value is mandatory in a response, 8..15, and no larger
  // than what we requested; if we requested a value, the server accepts it
  // by including the parameter. The server may include it unrequested.
  let serverBits = 15;
  if (raw.serverMaxWindowBits !== undefined) {
    if (raw.serverMaxWindowBits === true) fail('server_max_window_bits must have a value');
    const n = parseWindowBits(raw.serverMaxWindowBits);
    if (n === null) fail(`invalid server_max_window_bits value "${raw.serverMaxWindowBits}"`);
    if (offer.serverMaxWindowBits !== undefined && n > offer.serverMaxWindowBits) {
      fail(`server_max_window_bits=${n} is larger than the requested ${offer.serverMaxWindowBits}`);
    }
    serverBits = n;
  } else if (offer.serverMaxWindowBits !== undefined) {
    fail(`server_max_window_bits=${offer.serverMaxWindowBits} was requested but the response does not include it`);
  }

  // §7.1.2.2: in a response client_max_window_bits must have a value, may
  // only appear if the offer had it, and must not exceed an offered value.
  // Without it we keep to our own offered value (a promise), or 15.
  let clientBits = typeof offer.clientMaxWindowBits === 'number' ? offer.clientMaxWindowBits : 15;
  if (raw.clientMaxWindowBits !== undefined) {
    if (offer.clientMaxWindowBits === undefined) fail('client_max_window_bits was not offered');
    if (raw.clientMaxWindowBits === true) fail('client_max_window_bits must have a value');
    const n = parseWindowBits(raw.clientMaxWindowBits);
    if (n === null) fail(`invalid client_max_window_bits value "${raw.clientMaxWindowBits}"`);
    if (n > clientBits) fail(`client_max_window_bits=${n} is larger than the offered ${clientBits}`);
    // zlib turns a raw-deflate window of 8 into 9: our compressor cannot
    // honour 8, and a client has no way to refuse a response but failing.
    if (n < 9) fail('client_max_window_bits=8 cannot be honoured (zlib compresses with at least a 9-bit window)');
    clientBits = n;
  }

  return {
    serverNoContextTakeover,
    // §7.1.1.2: the server may add it; if we offered it we keep our promise.
    clientNoContextTakeover: raw.clientNoContextTakeover === true || offer.clientNoContextTakeover,
    serverMaxWindowBits: serverBits,
    clientMaxWindowBits: clientBits,
  };
}
