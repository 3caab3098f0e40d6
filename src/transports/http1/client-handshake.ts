import { randomBytes } from 'node:crypto';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { ClientConnectPlan, ClientHandshake } from '../../client/connect.js';
import { computeAcceptKey } from '../../handshake/accept-key.js';
import { parseExtensionHeader } from '../../handshake/extension-header.js';
import { listHasToken } from '../../handshake/tokens.js';
import { acceptDeflateResponse, deflateOfferHeader } from '../../protocol/deflate/negotiation.js';
import { PerMessageDeflate } from '../../protocol/deflate/per-message-deflate.js';
import type { WebSocket } from '../../session/websocket.js';
import { SocketChannel } from './socket-channel.js';

/**
 * The client side of the HTTP/1.1 opening handshake (RFC 6455 §4.1): sends a
 * GET with a fresh random key, then verifies the 101 answer (Upgrade,
 * Connection, Sec-WebSocket-Accept, the chosen subprotocol and extensions)
 * before the socket becomes a session. Any mismatch fails the connection.
 */
export function openHttp1Client(ws: WebSocket, plan: ClientConnectPlan): ClientHandshake {
  const { url, protocols, options } = plan;
  const key = randomBytes(16).toString('base64');
  const headers: Record<string, string> = {
    ...options.headers,
    connection: 'Upgrade',
    upgrade: 'websocket',
    'sec-websocket-version': '13',
    'sec-websocket-key': key,
  };
  if (protocols.length > 0) headers['sec-websocket-protocol'] = protocols.join(', ');
  if (plan.deflate !== null) headers['sec-websocket-extensions'] = deflateOfferHeader(plan.deflate);
  if (options.origin !== undefined) headers.origin = options.origin;

  const secure = url.protocol === 'wss:';
  const request = (secure ? https : http).request({
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port || (secure ? 443 : 80),
    path: url.pathname + url.search,
    method: 'GET',
    headers,
    agent: false,
    maxHeaderSize: options.maxHeaderSize ?? 16 * 1024,
    ca: options.ca,
    cert: options.cert,
    key: options.key,
    servername: options.servername,
    rejectUnauthorized: options.rejectUnauthorized,
  });
  let settled = false;
  const fail = (error: Error): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    request.destroy();
    plan.logger.debug({ url: url.href, reason: error.message }, 'client handshake failed');
    ws.failHandshake(error);
  };
  const timer = setTimeout(() => fail(new Error('opening handshake timed out')), plan.handshakeTimeout);
  timer.unref();

  request.on('error', fail);
  request.on('response', (response: IncomingMessage) => {
    response.resume();
    fail(new Error(`unexpected server response: ${response.statusCode}`));
  });
  request.on('upgrade', (response: IncomingMessage, socket: Socket, head: Buffer) => {
    if (settled) {
      socket.destroy();
      return;
    }
    let deflate: PerMessageDeflate | null = null;
    let protocol: string;
    let extensions: string;
    try {
      protocol = checkUpgradeResponse(response, key, protocols);
      extensions = response.headers['sec-websocket-extensions'] ?? '';
      const offers = parseExtensionHeader(response.headersDistinct['sec-websocket-extensions'] ?? []);
      if (offers.length > 0 && plan.deflate === null) throw new Error('server sent extensions although none were offered');
      const params = plan.deflate === null ? null : acceptDeflateResponse(offers, plan.deflate);
      if (params !== null) {
        deflate = new PerMessageDeflate(params, 'client', {
          maxMessageSize: plan.limits.maxMessageSize,
          level: plan.deflate?.level,
          memLevel: plan.deflate?.memLevel,
          limiter: plan.limiter,
        });
      }
    } catch (error) {
      socket.destroy();
      fail(error as Error);
      return;
    }
    settled = true;
    clearTimeout(timer);
    ws.attach({
      role: 'client',
      channel: new SocketChannel(socket, head),
      url: url.href,
      protocol,
      extensions,
      deflate,
      compressionThreshold: plan.deflate?.threshold ?? 0,
      limits: plan.limits,
      logger: plan.logger,
    });
  });
  request.end();
  return { abort: () => fail(new Error('WebSocket was closed before the connection was established')) };
}

/** RFC 6455 §4.1 items 2-6 (the server's answer); returns the selected subprotocol. */
function checkUpgradeResponse(response: IncomingMessage, key: string, offered: readonly string[]): string {
  const values = response.headersDistinct;
  if (!listHasToken(values.upgrade ?? [], 'websocket')) throw new Error('response lacks "Upgrade: websocket"');
  if (!listHasToken(values.connection ?? [], 'upgrade')) throw new Error('response lacks "Connection: Upgrade"');
  const accept = values['sec-websocket-accept'] ?? [];
  if (accept.length !== 1 || accept[0].trim() !== computeAcceptKey(key)) {
    throw new Error('invalid Sec-WebSocket-Accept');
  }
  const protocols = values['sec-websocket-protocol'] ?? [];
  if (protocols.length === 0) return '';
  const chosen = protocols[0].trim();
  if (protocols.length > 1 || !offered.includes(chosen)) {
    throw new Error(`server selected subprotocol "${protocols.join(', ')}", which was not offered`);
  }
  return chosen;
}
