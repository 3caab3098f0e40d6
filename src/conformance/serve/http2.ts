/**
 * RFC 8441 extended CONNECT for the fuzzing server, on node:http2 with
 * SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (§3). A WebSocket is a stream answered
 * `:status 200`; its bytes are the stream's DATA (§5).
 */
import http2, { type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { joinField, once, type ClientConnection, type Negotiator } from './connection.js';

/** Answers a stream; returns the connection, or undefined after refusing it. */
export function acceptHttp2(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, negotiate: Negotiator): ClientConnection | undefined {
  // A client's RST_STREAM must not become an uncaught 'error'; a case learns of it through onEnd.
  stream.on('error', () => {});
  if (stream.destroyed || stream.closed) return undefined;
  if (headers[':method'] !== 'CONNECT' || headers[':protocol'] === undefined) {
    stream.respond({ ':status': 404 }, { endStream: true });
    return undefined;
  }
  // RFC 8441 §4: an unknown :protocol is refused; 501 as for an unsupported method.
  if (headers[':protocol'] !== 'websocket') {
    stream.respond({ ':status': 501 }, { endStream: true });
    return undefined;
  }
  if (headers['sec-websocket-version'] !== '13') {
    stream.respond({ ':status': 400, 'sec-websocket-version': '13' }, { endStream: true });
    return undefined;
  }
  const target = String(headers[':path'] ?? '/');
  const extensionOffer = joinField(headers['sec-websocket-extensions']);
  const negotiated = negotiate(target, extensionOffer);
  stream.respond({ ':status': 200, ...(negotiated ? { 'sec-websocket-extensions': negotiated.header } : {}) });
  return {
    transport: 'h2',
    target,
    ...(extensionOffer !== undefined ? { extensionOffer } : {}),
    ...(negotiated ? { deflate: negotiated.params } : {}),
    write: (data) => {
      if (!stream.destroyed && stream.writable) stream.write(data);
    },
    end: () => {
      if (!stream.destroyed) stream.end();
    },
    abort: () => {
      if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
    },
    onData: (listener) => stream.on('data', listener),
    onEnd: (listener) => {
      const done = once(listener);
      stream.on('end', () => done('end'));
      stream.on('error', () => done('reset'));
      stream.on('close', () => done(stream.rstCode === http2.constants.NGHTTP2_NO_ERROR ? 'end' : 'reset'));
    },
  };
}
