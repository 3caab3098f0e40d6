import { acceptDeflateOffer, type DeflateOptions, type DeflateParams } from '../protocol/deflate/negotiation.js';
import { parseExtensionHeader } from '../protocol/extension-header.js';
import { HandshakeRejection } from './rejection.js';
import type { HandshakeRequest } from './request.js';
import { isToken, splitList } from '../protocol/tokens.js';

/** What `authenticate` may return: accept (optionally with user data) or refuse. */
export type AuthOutcome = boolean | void | undefined | { user?: unknown } | HandshakeRejection;

export interface NegotiationOptions {
  /**
   * Browser origins allowed to open WebSockets (RFC 6455 §10.2), compared
   * case-insensitively with the Origin header, or a predicate. Requests without
   * an Origin header come from non-browser clients and are let through; use a
   * predicate to refuse them too.
   */
  allowedOrigins?: readonly string[] | ((origin: string | undefined, request: HandshakeRequest) => boolean);
  /**
   * Picks one of the subprotocols the client offered, or none. Defaults to the
   * client's first choice. Never called when the client offered none.
   */
  handleProtocols?: (offered: readonly string[], request: HandshakeRequest, user: unknown) => string | false | null | undefined;
  /** permessage-deflate (RFC 7692): true or options to offer it, false (default) to decline. */
  perMessageDeflate?: boolean | DeflateOptions;
  /**
   * Runs last, after every protocol check: inspect cookies, bearer tokens or
   * basic auth in `request`, then return `{ user }` (or true) to accept, false
   * for 401, or a HandshakeRejection (returned or thrown) for any other answer.
   */
  authenticate?: (request: HandshakeRequest) => AuthOutcome | Promise<AuthOutcome>;
}

export interface Negotiated {
  /** The selected subprotocol, '' for none. */
  protocol: string;
  /** Value of the Sec-WebSocket-Extensions response header, '' for none. */
  extensions: string;
  deflate: DeflateParams | null;
  user: unknown;
}

/** RFC 6455 §4.2.2 / RFC 8441 §5: the one version this server speaks. */
export const SUPPORTED_VERSION = '13';

/**
 * The transport-neutral part of the server's opening handshake, shared by the
 * HTTP/1.1, HTTP/2 and HTTP/3 front-ends: version, subprotocols, extensions,
 * origin and authentication. Throws a HandshakeRejection carrying the HTTP
 * answer when the WebSocket is refused.
 */
export async function negotiate(request: HandshakeRequest, options: NegotiationOptions): Promise<Negotiated> {
  // RFC 6455 §11.3.5: one Sec-WebSocket-Version field line; it may list
  // several versions ("13, 8", §4.4), and a list with 13 in it gets 13.
  const versions = request.headerValues('sec-websocket-version');
  if (versions.length !== 1 || !splitList(versions).includes(SUPPORTED_VERSION)) {
    // RFC 6455 §4.2.2 item 4: 426 with the version(s) we understand.
    throw new HandshakeRejection(426, `unsupported WebSocket version; this server speaks ${SUPPORTED_VERSION}`, {
      'sec-websocket-version': SUPPORTED_VERSION,
    });
  }
  const offeredProtocols = parseProtocolOffer(request.headerValues('sec-websocket-protocol'));
  let extensionOffers;
  try {
    extensionOffers = parseExtensionHeader(request.headerValues('sec-websocket-extensions'));
  } catch (error) {
    throw new HandshakeRejection(400, `invalid Sec-WebSocket-Extensions: ${(error as Error).message}`);
  }
  checkOrigin(request, options.allowedOrigins);
  const user = await authenticate(request, options.authenticate);
  const protocol = selectProtocol(offeredProtocols, request, user, options.handleProtocols);

  let extensions = '';
  let deflate: DeflateParams | null = null;
  if (options.perMessageDeflate) {
    const deflateOptions = options.perMessageDeflate === true ? {} : options.perMessageDeflate;
    const accepted = acceptDeflateOffer(extensionOffers, deflateOptions);
    if (accepted !== null) {
      extensions = accepted.response;
      deflate = accepted.params;
    }
  }
  // Extensions we do not know are ignored: not answering them declines them (RFC 6455 §9.1).
  return { protocol, extensions, deflate, user };
}

/** RFC 6455 §4.1/§11.3.4: a list of distinct tokens, possibly over several lines. */
function parseProtocolOffer(values: readonly string[]): string[] {
  const offered = splitList(values);
  const seen = new Set<string>();
  for (const protocol of offered) {
    if (!isToken(protocol)) throw new HandshakeRejection(400, `invalid subprotocol name "${protocol}"`);
    if (seen.has(protocol)) throw new HandshakeRejection(400, `subprotocol "${protocol}" offered twice`);
    seen.add(protocol);
  }
  return offered;
}

function checkOrigin(request: HandshakeRequest, allowed: NegotiationOptions['allowedOrigins']): void {
  if (allowed === undefined) return;
  const origin = request.header('origin');
  const ok =
    typeof allowed === 'function'
      ? allowed(origin, request)
      : origin === undefined || allowed.some((entry) => entry.toLowerCase() === origin.toLowerCase());
  if (!ok) throw new HandshakeRejection(403, 'origin not allowed');
}

async function authenticate(request: HandshakeRequest, hook: NegotiationOptions['authenticate']): Promise<unknown> {
  if (hook === undefined) return undefined;
  let outcome: AuthOutcome;
  try {
    outcome = await hook(request);
  } catch (error) {
    if (error instanceof HandshakeRejection) throw error;
    throw new HookFailure('authenticate', error);
  }
  if (outcome instanceof HandshakeRejection) throw outcome;
  if (outcome === false) throw new HandshakeRejection(401, 'authentication required');
  return typeof outcome === 'object' && outcome !== null ? outcome.user : undefined;
}

function selectProtocol(
  offered: readonly string[],
  request: HandshakeRequest,
  user: unknown,
  hook: NegotiationOptions['handleProtocols'],
): string {
  if (offered.length === 0) return '';
  if (hook === undefined) return offered[0];
  let chosen;
  try {
    chosen = hook(offered, request, user);
  } catch (error) {
    throw new HookFailure('handleProtocols', error);
  }
  if (chosen === false || chosen === null || chosen === undefined || chosen === '') return '';
  // RFC 6455 §4.2.2: the server answers with one of the values the client sent, or none.
  if (!offered.includes(chosen)) {
    throw new HookFailure('handleProtocols', new Error(`chose "${chosen}", which the client did not offer`));
  }
  return chosen;
}

/** An application hook threw: the client gets a 500, the server log gets the cause. */
export class HookFailure extends HandshakeRejection {
  readonly hook: string;
  override readonly cause: unknown;
  constructor(hook: string, cause: unknown) {
    super(500, 'internal server error');
    this.hook = hook;
    this.cause = cause;
  }
}
