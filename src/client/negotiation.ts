import { parseExtensionHeader } from '../protocol/extension-header.js';
import { acceptDeflateResponse, deflateOfferHeader } from '../protocol/deflate/negotiation.js';
import { PerMessageDeflate } from '../protocol/deflate/per-message-deflate.js';
import type { ClientConnectPlan } from './plan.js';
import { HandshakeError } from './handshake-error.js';

/**
 * The request fields every transport sends (RFC 6455 §4.1, RFC 8441 §5):
 * version, offered subprotocols and extensions, Origin, and the
 * application's own headers. Lower-case names, as HTTP/2 and HTTP/3 require.
 */
export function offerHeaders(plan: ClientConnectPlan): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(plan.options.headers ?? {})) headers[name.toLowerCase()] = value;
  headers['sec-websocket-version'] = '13';
  if (plan.protocols.length > 0) headers['sec-websocket-protocol'] = plan.protocols.join(', ');
  if (plan.deflate !== null) headers['sec-websocket-extensions'] = deflateOfferHeader(plan.deflate);
  if (plan.options.origin !== undefined) headers.origin = plan.options.origin;
  return headers;
}

export interface AcceptedResponse {
  protocol: string;
  extensions: string;
  deflate: PerMessageDeflate | null;
}

/**
 * The transport-neutral checks of the server's answer (RFC 6455 §4.1 items 5
 * and 6, RFC 7692 §5): the subprotocol must be one we offered, and the only
 * extension a server may accept is the permessage-deflate we offered, with
 * valid parameters. Throws a HandshakeError (INVALID_RESPONSE) with the reason otherwise.
 */
export function acceptResponse(plan: ClientConnectPlan, protocolValues: readonly string[], extensionValues: readonly string[]): AcceptedResponse {
  let protocol = '';
  if (protocolValues.length > 0) {
    const chosen = protocolValues[0].trim();
    if (protocolValues.length > 1 || !plan.protocols.includes(chosen)) {
      throw new HandshakeError('INVALID_RESPONSE', `server selected subprotocol "${protocolValues.join(', ')}", which was not offered`);
    }
    protocol = chosen;
  }
  const offers = parseExtensionHeader(extensionValues);
  if (offers.length > 0 && plan.deflate === null) throw new HandshakeError('INVALID_RESPONSE', 'server sent extensions although none were offered');
  let params;
  try {
    params = plan.deflate === null ? null : acceptDeflateResponse(offers, plan.deflate);
  } catch (error) {
    throw new HandshakeError('INVALID_RESPONSE', (error as Error).message, { cause: error });
  }
  const deflate =
    params === null
      ? null
      : new PerMessageDeflate(params, 'client', {
          maxMessageSize: plan.limits.maxMessageSize,
          level: plan.deflate?.level,
          memLevel: plan.deflate?.memLevel,
          limiter: plan.limiter,
        });
  return { protocol, extensions: extensionValues.join(', '), deflate };
}
