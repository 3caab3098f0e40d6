// @ts-check
// HTTP/1.1 opening handshake checks (src/handshake/http1-validation.ts) and
// the shared negotiation after them (src/handshake/negotiate.ts).
// Input: [options][request head, latin1: request line, then "name: value"
// lines separated by LF]. The head is cut the way Node's parser presents it
// (lower-case names, every line of a field kept), not parsed strictly: the
// HTTP grammar is llhttp's job, ours is what comes after it.
// Properties: only HandshakeRejection escapes, with a 4xx status; an
// accepted handshake has a valid key, a subprotocol the client offered and
// an extension response that parses.
import { computeAcceptKey, isValidClientKey } from '../dist/handshake/accept-key.js';
import { parseExtensionHeader } from '../dist/protocol/extension-header.js';
import { validateHttp1Upgrade } from '../dist/handshake/http1-validation.js';
import { negotiate } from '../dist/handshake/negotiate.js';
import { HandshakeRejection } from '../dist/handshake/rejection.js';
import { HandshakeRequest } from '../dist/handshake/request.js';
import { splitList } from '../dist/protocol/tokens.js';
import { assert } from './lib/check.js';

/** @param {string} head */
function requestFrom(head) {
  const [requestLine = '', ...lines] = head.split('\n');
  const [method = '', url = '/', version = ''] = requestLine.split(' ');
  // No prototype, like the field maps Node builds: a header named "constructor" is just a header.
  /** @type {Record<string, string[]>} */
  const headers = Object.create(null);
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    (headers[line.slice(0, colon).toLowerCase()] ??= []).push(line.slice(colon + 1).trim());
  }
  return new HandshakeRequest({
    transport: 'http/1.1',
    method,
    scheme: 'http',
    authority: headers.host?.[0] ?? '',
    url,
    headers,
    httpVersion: version.replace(/^HTTP\//, ''),
  });
}

/** @param {unknown} error */
function checkRejection(error) {
  if (!(error instanceof HandshakeRejection)) throw error;
  assert(error.status >= 400 && error.status < 500, `rejected with ${error.status}`);
}

/** @param {Buffer} input */
export async function fuzz(input) {
  if (input.length < 1) return;
  const flags = input[0];
  const request = requestFrom(input.subarray(1).toString('latin1'));
  let key;
  try {
    key = validateHttp1Upgrade(request);
  } catch (error) {
    checkRejection(error);
    return;
  }
  assert(isValidClientKey(key) && computeAcceptKey(key).length === 28, `accepted key ${JSON.stringify(key)}`);
  const options = {
    perMessageDeflate: (flags & 1) !== 0 ? { serverNoContextTakeover: (flags & 2) !== 0 } : false,
    allowedOrigins: (flags & 4) !== 0 ? ['https://example.test'] : undefined,
  };
  let negotiated;
  try {
    negotiated = await negotiate(request, options);
  } catch (error) {
    checkRejection(error);
    return;
  }
  const offered = splitList(request.headerValues('sec-websocket-protocol'));
  assert(negotiated.protocol === '' || offered.includes(negotiated.protocol), `selected protocol ${negotiated.protocol} not offered`);
  if (negotiated.extensions !== '') assert(parseExtensionHeader([negotiated.extensions]).length === 1, 'extension response');
}
