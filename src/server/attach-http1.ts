import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { HandshakeRejection } from '../handshake/rejection.js';
import { writeRejection } from '../transports/http1/raw-response.js';
import { handleHttp1Upgrade, requestFromIncoming } from '../transports/http1/server-upgrade.js';
import type { ServerContext } from '../handshake/accept.js';
import type { AnyHttpServer } from './http-servers.js';

/**
 * Serves WebSocket upgrades arriving on a server's 'upgrade' event (HTTP/1.1,
 * also on an HTTP/2 server with allowHTTP1). Returns a function that detaches.
 */
export function attachHttp1(server: AnyHttpServer, context: ServerContext): () => void {
  const listener = (req: IncomingMessage, socket: Socket, head: Buffer): void => {
    const request = requestFromIncoming(req, socket);
    if (!context.shouldHandle(request)) {
      // Another upgrade handler on the same server may want it.
      if (server.listenerCount('upgrade') > 1) return;
      const rejection = new HandshakeRejection(404, 'no WebSocket endpoint at this path');
      context.logger.info({ peer: request.remoteAddress, url: request.url, status: 404 }, 'handshake refused');
      writeRejection(socket, rejection);
      return;
    }
    void handleHttp1Upgrade(context, request, socket, head);
  };
  server.on('upgrade', listener);
  return () => server.off('upgrade', listener);
}
