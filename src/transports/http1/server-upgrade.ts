import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { computeAcceptKey } from '../../handshake/accept-key.js';
import { validateHttp1Upgrade } from '../../handshake/http1-validation.js';
import { HandshakeRejection } from '../../handshake/rejection.js';
import { HandshakeRequest } from '../../handshake/request.js';
import { logRejection, negotiateFor, openSession, type ServerContext } from '../../server/context.js';
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
export async function handleHttp1Upgrade(
  context: ServerContext,
  request: HandshakeRequest,
  socket: Socket,
  head: Buffer,
): Promise<WebSocket | null> {
  const onEarlyError = (error: Error): void => {
    context.logger.debug({ err: error, peer: request.remoteAddress }, 'socket error during handshake');
  };
  socket.on('error', onEarlyError);
  try {
    const key = validateHttp1Upgrade(request);
    const negotiated = await negotiateFor(context, request);
    if (socket.destroyed || !socket.writable) {
      context.logger.debug({ peer: request.remoteAddress }, 'client left during the handshake');
      return null;
    }
    const headers: Array<[string, string]> = [
      ['Upgrade', 'websocket'],
      ['Connection', 'Upgrade'],
      ['Sec-WebSocket-Accept', computeAcceptKey(key)],
    ];
    if (negotiated.protocol !== '') headers.push(['Sec-WebSocket-Protocol', negotiated.protocol]);
    if (negotiated.extensions !== '') headers.push(['Sec-WebSocket-Extensions', negotiated.extensions]);
    const altSvc = context.altSvcFor(socket.localPort);
    if (altSvc !== undefined) headers.push(['Alt-Svc', altSvc]);
    writeHead(socket, 101, headers);
    const ws = openSession(context, request, negotiated, new SocketChannel(socket, head));
    socket.removeListener('error', onEarlyError);
    return ws;
  } catch (error) {
    const rejection =
      error instanceof HandshakeRejection ? error : Object.assign(new HandshakeRejection(500, 'internal server error'), { cause: error });
    logRejection(context.logger, request, rejection);
    writeRejection(socket, rejection);
    return null;
  }
}
