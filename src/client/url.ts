import { isToken } from '../protocol/tokens.js';

/**
 * Parses a WebSocket URI the way the WHATWG WebSocket constructor does, for the
 * schemes RFC 6455 §3 defines: ws and wss only, no fragment. Failures throw a
 * SyntaxError DOMException, like in browsers.
 */
export function parseWebSocketUrl(input: string | URL): URL {
  let url: URL;
  try {
    url = new URL(String(input));
  } catch {
    throw new DOMException(`invalid URL: ${String(input)}`, 'SyntaxError');
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new DOMException(`the URL's scheme must be ws or wss, not ${url.protocol.slice(0, -1)}`, 'SyntaxError');
  }
  // RFC 6455 §3: "Fragment identifiers are meaningless in the context of WebSocket URIs".
  if (url.href.includes('#')) {
    throw new DOMException('a WebSocket URL must not contain a fragment', 'SyntaxError');
  }
  return url;
}

/** RFC 6455 §4.1 item 10: distinct tokens. */
export function validateProtocols(protocols: readonly string[]): void {
  const seen = new Set<string>();
  for (const protocol of protocols) {
    if (!isToken(protocol)) throw new DOMException(`invalid subprotocol "${protocol}"`, 'SyntaxError');
    if (seen.has(protocol)) throw new DOMException(`subprotocol "${protocol}" listed twice`, 'SyntaxError');
    seen.add(protocol);
  }
}
