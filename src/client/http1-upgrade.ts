import { randomBytes } from 'node:crypto';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ClientHandshake } from '../session/client-options.js';
import type { ClientConnectPlan } from './plan.js';
import { computeAcceptKey } from '../handshake/accept-key.js';
import { listHasToken } from '../protocol/tokens.js';
import { rememberAltSvc } from './alt-svc.js';
import { HandshakeAttempt } from './attempt.js';
import { HandshakeError } from './handshake-error.js';
import { acceptResponse, offerHeaders, type AcceptedResponse } from './negotiation.js';
import type { WebSocket } from '../session/websocket.js';
import { SocketChannel } from '../transports/http1/socket-channel.js';

/**
 * The client side of the HTTP/1.1 opening handshake (RFC 6455 §4.1): sends a
 * GET with a fresh random key, then verifies the 101 answer (Upgrade,
 * Connection, Sec-WebSocket-Accept, the chosen subprotocol and extensions)
 * before the socket becomes a session. Any mismatch fails the connection.
 */
export function openHttp1Client(ws: WebSocket, plan: ClientConnectPlan, socket?: Duplex): ClientHandshake {
  const { url, options } = plan;
  const key = randomBytes(16).toString('base64');
  const headers = { ...offerHeaders(plan), connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-key': key };

  const secure = url.protocol === 'wss:';
  const request = (secure ? https : http).request({
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port || (secure ? 443 : 80),
    path: url.pathname + url.search,
    method: 'GET',
    headers,
    // No agent: each WebSocket owns its connection (or the one 'auto' handed over via createConnection).
    agent: socket ? undefined : false,
    maxHeaderSize: options.maxHeaderSize ?? 16 * 1024,
    ca: options.ca,
    cert: options.cert,
    key: options.key,
    servername: options.servername,
    rejectUnauthorized: options.rejectUnauthorized,
    // Transport 'auto' hands over the TLS connection it opened when ALPN chose HTTP/1.1.
    ...(socket ? { createConnection: () => socket } : {}),
  });
  const attempt = new HandshakeAttempt(ws, plan);
  attempt.onFailure(() => request.destroy());
  request.on('error', (error) => attempt.fail(error));
  // RFC 6455 §4.1: any status but 101 means the server refused the WebSocket.
  request.on('response', (response: IncomingMessage) => attempt.refuse(response.statusCode ?? 0, response.headers, response));
  request.on('upgrade', (response: IncomingMessage, upgraded: Socket, head: Buffer) => {
    if (attempt.done) return upgraded.destroy();
    let accepted: AcceptedResponse;
    try {
      checkUpgradeResponse(response, key);
      const values = response.headersDistinct;
      accepted = acceptResponse(plan, values['sec-websocket-protocol'] ?? [], values['sec-websocket-extensions'] ?? []);
    } catch (error) {
      upgraded.destroy();
      return attempt.fail(error as Error);
    }
    if (secure) rememberAltSvc(`https://${url.host}`, response.headers['alt-svc']);
    attempt.succeed(new SocketChannel(upgraded, head), accepted, { status: 101, headers: response.headers });
  });
  request.end();
  return attempt;
}

/** RFC 6455 §4.1 items 2-4: the HTTP/1.1-specific part of the server's answer. */
function checkUpgradeResponse(response: IncomingMessage, key: string): void {
  const values = response.headersDistinct;
  if (!listHasToken(values.upgrade ?? [], 'websocket')) throw new HandshakeError('INVALID_RESPONSE', 'response lacks "Upgrade: websocket"');
  if (!listHasToken(values.connection ?? [], 'upgrade')) throw new HandshakeError('INVALID_RESPONSE', 'response lacks "Connection: Upgrade"');
  const accept = values['sec-websocket-accept'] ?? [];
  if (accept.length !== 1 || accept[0].trim() !== computeAcceptKey(key)) {
    throw new HandshakeError('INVALID_RESPONSE', 'invalid Sec-WebSocket-Accept');
  }
}
