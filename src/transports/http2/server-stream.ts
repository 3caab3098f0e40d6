import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { validateExtendedConnect } from '../../handshake/extended-connect.js';
import { HandshakeRejection } from '../../handshake/rejection.js';
import { rejectEndedTunnel, rejectHostAuthorityMismatch } from '../../handshake/request-framing.js';
import { HandshakeRequest } from '../../handshake/request.js';
import { acceptHandshake, type ServerContext } from '../../handshake/accept.js';
import type { WebSocket } from '../../session/websocket.js';
import { Http2StreamChannel } from './stream-channel.js';

/**
 * Builds the transport-neutral request from an HTTP/2 stream's headers. The
 * raw header list keeps repeated fields apart (Node joins them otherwise).
 */
export function requestFromHttp2(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, rawHeaders?: string[]): HandshakeRequest {
  const fields: Record<string, string[]> = {};
  if (rawHeaders) {
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      const name = rawHeaders[i].toLowerCase();
      if (name.startsWith(':')) continue;
      (fields[name] ??= []).push(rawHeaders[i + 1]);
    }
  } else {
    for (const [name, value] of Object.entries(headers)) {
      if (name.startsWith(':') || value === undefined) continue;
      fields[name] = Array.isArray(value) ? value : [String(value)];
    }
  }
  const socket = stream.session?.socket;
  return new HandshakeRequest({
    transport: 'h2',
    method: String(headers[':method'] ?? ''),
    connectProtocol: headers[':protocol'] as string | undefined,
    scheme: String(headers[':scheme'] ?? ''),
    authority: String(headers[':authority'] ?? ''),
    url: String(headers[':path'] ?? ''),
    headers: fields,
    httpVersion: '2.0',
    remoteAddress: socket?.remoteAddress,
    remotePort: socket?.remotePort,
  });
}

/**
 * The HTTP/2 front-end (RFC 8441): validates the extended CONNECT, runs the
 * shared negotiation, answers `:status 200` (never 101, and without the
 * HTTP/1.1 key/accept or Connection/Upgrade fields) and turns the stream into a
 * session. Every failure is answered with a status and a reason on the stream.
 */
export function handleHttp2Stream(
  context: ServerContext,
  request: HandshakeRequest,
  stream: ServerHttp2Stream,
): Promise<WebSocket | null> {
  return acceptHandshake(context, request, {
    validate: () => {
      validateExtendedConnect(request);
      rejectHostAuthorityMismatch(request);
      rejectEndedTunnel(stream.endAfterHeaders);
    },
    isOpen: () => !stream.destroyed && !stream.closed,
    localPort: stream.session?.socket?.localPort,
    accept: (fields) => {
      stream.respond(http2Fields(200, fields));
      return new Http2StreamChannel(stream);
    },
    reject: (rejection) => respondRejection(stream, rejection),
    catchErrors: (listener) => {
      stream.on('error', listener);
      return () => stream.off('error', listener);
    },
  });
}

/**
 * Turns a field list into node:http2's header object: lower-case names (RFC
 * 9113 §8.2.1), and a repeated name (two Set-Cookie) as an array, which
 * node:http2 sends as one field line per value.
 */
function http2Fields(status: number, fields: ReadonlyArray<[string, string]>): OutgoingHttpHeaders {
  const headers: Record<string, string | number | string[]> = { ':status': status };
  for (const [name, value] of fields) {
    const key = name.toLowerCase();
    const previous = headers[key];
    if (previous === undefined) headers[key] = value;
    else if (Array.isArray(previous)) previous.push(value);
    else headers[key] = [String(previous), value];
  }
  return headers;
}

/** Answers a refused extended CONNECT (or any request we own) with status, headers and a short body. */
export function respondRejection(stream: ServerHttp2Stream, rejection: HandshakeRejection): void {
  if (stream.destroyed || stream.headersSent) return;
  const headers: Record<string, string | number | string[]> = {
    ':status': rejection.status,
    'content-type': 'text/plain; charset=utf-8',
  };
  for (const [name, value] of Object.entries(rejection.headers)) {
    headers[name.toLowerCase()] = Array.isArray(value) ? [...value] : (value as string | number);
  }
  try {
    stream.respond(headers);
  } catch {
    // A header HTTP/2 forbids (e.g. Connection) came from a hook: keep the status, drop the rest.
    stream.respond({ ':status': rejection.status, 'content-type': 'text/plain; charset=utf-8' });
  }
  stream.end(rejection.body + '\n');
}
