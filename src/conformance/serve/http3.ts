/**
 * RFC 9220 extended CONNECT for the fuzzing server, on the project's HTTP/3
 * layer (node has no HTTP/3): the session advertises
 * SETTINGS_ENABLE_CONNECT_PROTOCOL, a WebSocket is a request stream answered
 * `:status 200`, its bytes the stream's DATA frames (RFC 9220 §3).
 */
import { H3_NO_ERROR, H3_REQUEST_CANCELLED } from '../../http3/errors.js';
import type { HeaderList } from '../../http3/fields.js';
import type { QuicConnection } from '../../quic/types.js';
import type { Http3RequestStream } from '../../http3/request-stream.js';
import { Http3Session } from '../../http3/session.js';
import { joinField, once, type ClientConnection, type Negotiator } from './connection.js';

/** Serves one QUIC connection; `onWebSocket` gets every accepted extended CONNECT. */
export function serveHttp3Connection(connection: QuicConnection, onWebSocket: (connection: ClientConnection) => void, negotiate: Negotiator): Http3Session {
  const session = new Http3Session(connection, { role: 'server', enableConnectProtocol: true });
  session.on('error', () => {}); // a broken client's connection error ends only its own cases
  session.on('request', (stream: Http3RequestStream, headers: HeaderList) => {
    stream.pause(); // data may come with the request: hold it until the case listens
    const accepted = acceptHttp3(stream, headers, negotiate);
    if (accepted) onWebSocket(accepted);
  });
  return session;
}

function acceptHttp3(stream: Http3RequestStream, headers: HeaderList, negotiate: Negotiator): ClientConnection | undefined {
  const get = (name: string): string | undefined => headers.find(([field]) => field === name)?.[1];
  const refuse = (status: number): undefined => {
    stream.respond([[':status', String(status)]], { endStream: true });
    return undefined;
  };
  if (get(':method') !== 'CONNECT' || get(':protocol') === undefined) return refuse(404);
  if (get(':protocol') !== 'websocket') return refuse(501);
  if (get('sec-websocket-version') !== '13') return refuse(400);
  const target = get(':path') ?? '/';
  const offers = headers.filter(([field]) => field === 'sec-websocket-extensions').map(([, value]) => value);
  const extensionOffer = offers.length > 0 ? joinField(offers) : undefined;
  const negotiated = negotiate(target, extensionOffer);
  stream.respond([[':status', '200'], ...(negotiated ? [['sec-websocket-extensions', negotiated.header] as [string, string]] : [])]);
  return {
    transport: 'h3',
    target,
    ...(extensionOffer !== undefined ? { extensionOffer } : {}),
    ...(negotiated ? { deflate: negotiated.params } : {}),
    write: (data) => {
      if (!stream.closed && stream.writable) stream.write(data);
    },
    end: () => {
      if (!stream.closed && stream.writable) stream.end();
    },
    abort: () => {
      if (!stream.closed) stream.cancel(H3_REQUEST_CANCELLED);
    },
    onData: (listener) => {
      stream.on('data', listener);
      process.nextTick(() => stream.resume());
    },
    onEnd: (listener) => {
      const done = once(listener);
      stream.on('end', () => done('end'));
      stream.on('reset', (code: number) => done(code === H3_NO_ERROR ? 'end' : 'reset'));
      stream.on('close', () => done('reset'));
    },
  };
}
