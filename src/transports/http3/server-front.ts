import { validateExtendedConnect } from '../../handshake/extended-connect.js';
import { HandshakeRejection } from '../../handshake/rejection.js';
import { HandshakeRequest } from '../../handshake/request.js';
import { rejectHostAuthorityMismatch } from '../../handshake/request-framing.js';
import { acceptHandshake, type ServerContext } from '../../handshake/accept.js';
import type { WebSocket } from '../../session/websocket.js';
import type { HeaderList } from '../../http3/fields.js';
import type { Http3RequestStream } from '../../http3/request-stream.js';
import { Http3StreamChannel } from './stream-channel.js';

export interface RemotePeer {
  address: string;
  port: number;
}

/** Builds the transport-neutral request from an HTTP/3 request's field section. */
export function requestFromHttp3(headers: HeaderList, peer: RemotePeer): HandshakeRequest {
  const fields: Record<string, string[]> = {};
  const pseudo: Record<string, string> = {};
  for (const [name, value] of headers) {
    if (name.startsWith(':')) pseudo[name] = value;
    else (fields[name] ??= []).push(value);
  }
  return new HandshakeRequest({
    transport: 'h3',
    method: pseudo[':method'] ?? '',
    connectProtocol: pseudo[':protocol'],
    scheme: pseudo[':scheme'] ?? '',
    authority: pseudo[':authority'] ?? '',
    url: pseudo[':path'] ?? '',
    headers: fields,
    httpVersion: '3',
    remoteAddress: peer.address,
    remotePort: peer.port,
  });
}

/**
 * The HTTP/3 front-end (RFC 9220): an extended CONNECT on a client
 * bidirectional stream goes through the same validation and negotiation as on
 * HTTP/2, is answered `:status 200`, and the request stream becomes a session.
 * The stream must have been paused by the caller as soon as it arrived, since
 * HTTP/3 delivers data immediately.
 */
export function handleHttp3Request(
  context: ServerContext,
  request: HandshakeRequest,
  stream: Http3RequestStream,
  peer: RemotePeer,
): Promise<WebSocket | null> {
  return acceptHandshake(context, request, {
    validate: () => {
      validateExtendedConnect(request);
      // RFC 9114 §4.3.1: Host, when present, must name the :authority's entity.
      rejectHostAuthorityMismatch(request);
    },
    isOpen: () => !stream.closed && stream.writable,
    localPort: undefined,
    accept: (fields) => {
      // RFC 9114 §4.2: field names are lower-case on HTTP/3.
      stream.respond([[':status', '200'], ...fields.map(([name, value]): [string, string] => [name.toLowerCase(), value])]);
      return new Http3StreamChannel(stream, peer);
    },
    reject: (rejection) => respondRejection(stream, rejection),
    catchErrors: (listener) => {
      stream.on('error', listener);
      return () => stream.off('error', listener);
    },
  });
}

/** Answers a refused request with status, headers and a short body, then ends the stream. */
export function respondRejection(stream: Http3RequestStream, rejection: HandshakeRejection): void {
  if (stream.closed || !stream.writable) return;
  const headers: HeaderList = [
    [':status', String(rejection.status)],
    ['content-type', 'text/plain; charset=utf-8'],
  ];
  for (const [name, value] of Object.entries(rejection.headers)) {
    for (const item of Array.isArray(value) ? value : [value]) headers.push([name.toLowerCase(), String(item)]);
  }
  stream.resume(); // drain whatever the client still sends
  try {
    stream.respond(headers);
  } catch {
    // A field HTTP/3 forbids (e.g. Connection) came from a hook: keep the status.
    stream.respond(headers.slice(0, 2));
  }
  stream.write(rejection.body + '\n');
  stream.end();
}
