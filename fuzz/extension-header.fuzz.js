// @ts-check
// Sec-WebSocket-Extensions parser (src/protocol/extension-header.ts) and
// permessage-deflate negotiation (src/protocol/deflate/negotiation.ts).
// Input: [options][header lines separated by LF, latin1].
// Properties: the parser throws only SyntaxError; what it returns formats
// back (formatExtension) to a header that parses to the same offers; the
// server's negotiation never throws on any offer, and its response parses
// to one permessage-deflate with parameters within RFC 7692's ranges; the
// client's check of a response throws only its documented Error.
import { formatExtension, parseExtensionHeader } from '../dist/protocol/extension-header.js';
import { acceptDeflateOffer, acceptDeflateResponse } from '../dist/protocol/deflate/negotiation.js';
import { assert, assertEqual, expectOnly } from './lib/check.js';

/** @param {number} flags */
function deflateOptions(flags) {
  return {
    serverNoContextTakeover: (flags & 1) !== 0,
    clientNoContextTakeover: (flags & 2) !== 0,
    serverMaxWindowBits: 9 + ((flags >> 2) % 7),
    clientMaxWindowBits: 9 + ((flags >> 5) % 7),
  };
}

/** @param {import('../dist/protocol/deflate/negotiation.js').DeflateParams} params */
function checkParams(params) {
  assert(params.serverMaxWindowBits >= 9 && params.serverMaxWindowBits <= 15, `server window ${params.serverMaxWindowBits}`);
  assert(params.clientMaxWindowBits >= 8 && params.clientMaxWindowBits <= 15, `client window ${params.clientMaxWindowBits}`);
}

/** @param {Buffer} input */
export function fuzz(input) {
  if (input.length < 1) return;
  const lines = input.subarray(1).toString('latin1').split('\n');
  const parsed = expectOnly(() => parseExtensionHeader(lines), SyntaxError);
  if (!parsed.ok) return;
  const offers = parsed.value;

  const reformatted = offers.map((offer) => formatExtension(offer.name, offer.params));
  assertEqual(parseExtensionHeader([reformatted.join(', ')]), offers, 'formatted offers parse differently');

  const options = deflateOptions(input[0]);
  const accepted = acceptDeflateOffer(offers, options);
  if (accepted !== null) {
    checkParams(accepted.params);
    const response = parseExtensionHeader([accepted.response]);
    assert(response.length === 1 && response[0].name === 'permessage-deflate', `response ${accepted.response}`);
  }

  const asResponse = expectOnly(() => acceptDeflateResponse(offers, options), Error);
  if (asResponse.ok && asResponse.value !== null) checkParams(asResponse.value);
  if (!asResponse.ok) {
    assert(asResponse.error.message.startsWith('Invalid permessage-deflate response:'), `unexpected error ${asResponse.error.stack}`);
  }
}
