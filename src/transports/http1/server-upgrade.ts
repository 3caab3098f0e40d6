import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { computeAcceptKey } from '../../handshake/accept-key.js';
import { validateHttp1Upgrade } from '../../handshake/http1-validation.js';
import { rejectUpgradeWithContent } from '../../handshake/request-framing.js';
import { HandshakeRequest } from '../../handshake/request.js';
import { acceptHandshake, type ServerContext } from '../../handshake/accept.js';
import type { WebSocket } from '../../session/websocket.js';
import { writeHead, writeRejection } from './raw-response.js';
import { SocketChannel } from './socket-channel.js';

/** Builds the transport-neutral request from an HTTP/1.1 'upgrade' event. */
export function requestFromIncoming(req: IncomingMessage, socket: Socket): HandshakeRequest {
  return new HandshakeRequest({
    transport: 'http/1.1',
    method: req.method ?? '',
    scheme: 'encrypted' in socket && socket.encrypted ? 'https' : 'http',
    authority: req.headers.host ?? '',
    url: req.url ?? '/',
    headers: req.headersDistinct,
    httpVersion: req.httpVersion,
    remoteAddress: socket.remoteAddress,
    remotePort: socket.remotePort,
  });
}

/**
 * The HTTP/1.1 front-end (RFC 6455 §4.2): validates the Upgrade request,
 * runs the shared negotiation, answers 101 with Sec-WebSocket-Accept and turns
 * the socket into a session. Every failure is answered with a status and a
 * reason, then the connection is closed; nothing here can throw.
 */
export function handleHttp1Upgrade(
  context: ServerContext,
  request: HandshakeRequest,
  socket: Socket,
  head: Buffer,
): Promise<WebSocket | null> {
  return acceptHandshake(context, request, {
    validate: () => {
      const key = validateHttp1Upgrade(request);
      rejectUpgradeWithContent(request);
      return key;
    },
    isOpen: () => !socket.destroyed && socket.writable,
    localPort: socket.localPort,
    accept: (fields, key) => {
      writeHead(socket, 101, [
        ['Upgrade', 'websocket'],
        ['Connection', 'Upgrade'],
        ['Sec-WebSocket-Accept', computeAcceptKey(key)],
        ...fields,
      ]);
      return new SocketChannel(socket, head);
    },
    reject: (rejection) => writeRejection(socket, rejection),
    catchErrors: (listener) => {
      socket.on('error', listener);
      return () => socket.off('error', listener);
    },
  });
}
