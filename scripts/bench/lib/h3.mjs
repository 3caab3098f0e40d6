// HTTP/3 (RFC 9220) rows.
//
// Node has no QUIC of its own, so the load generator reaches trident's HTTP/3
// listener (`listen({ tls, http3: true })`) through trident's own QUIC and
// HTTP/3 client layer from dist/ (the QUIC driver over quiche and the HTTP/3
// session) — the counterpart of node:http2 for the HTTP/2 rows. Above that it
// is the same as HTTP/2: an extended CONNECT per WebSocket (`:protocol
// websocket`, after the server's SETTINGS enabled it), then the same pre-built
// masked frames written on the request streams and the same incremental reply
// parser. That client is JavaScript over a native binding and costs more than
// the TCP paths: read the client CPU column, and prefer server CPU µs/msg.
//
// When dist/ has no HTTP/3 (or the QUIC binding does not load on this
// platform), the report prints "HTTP/3: not available yet".
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const dist = (file) => path.join(root, 'dist', file);
const HOST = '127.0.0.1';

/** Whether trident's HTTP/3 server and client are built and the QUIC binding loads here. */
export async function h3Status() {
  const needed = ['client/http3-pool.js', 'http3/session.js', 'quic/index.js', 'server/websocket-server.d.ts'];
  const missing = needed.filter((file) => !existsSync(dist(file)));
  if (missing.length > 0) return { available: false, reason: `HTTP/3: not available yet (dist/ lacks ${missing.join(', ')})` };
  if (!/http3\?:/.test(readFileSync(dist('server/websocket-server.d.ts'), 'utf8'))) {
    return { available: false, reason: 'HTTP/3: not available yet (no listen({ http3 }) option on WebSocketServer)' };
  }
  try {
    const quic = await import(pathToFileURL(dist('quic/index.js')).href);
    if (typeof quic.quicAvailable === 'function' && !quic.quicAvailable()) {
      return { available: false, reason: 'HTTP/3: not available on this machine (the QUIC binding does not load)' };
    }
  } catch (error) {
    return { available: false, reason: `HTTP/3: not available yet (${error.message})` };
  }
  return { available: true, reason: 'HTTP/3: trident listen({ tls, http3: true }); load generator over trident\'s own QUIC/HTTP/3 client layer' };
}

let connectHttp3 = null;

/**
 * One QUIC connection, ready for extended CONNECT (the server's SETTINGS
 * enabled it), opened by trident's own client code. `quic` holds transport
 * options (the packet-size rows).
 */
export async function openH3Session(target, { timeoutMs = 10000, quic = {} } = {}) {
  connectHttp3 ??= (await import(pathToFileURL(dist('client/http3-pool.js')).href)).connectHttp3;
  return connectHttp3({
    host: HOST,
    port: target.port,
    servername: 'localhost',
    rejectUnauthorized: false,
    timeout: timeoutMs,
    // Long cases (10,000 idle streams) must not meet QUIC's idle timeout.
    quic: { idleTimeout: 3600_000, ...quic },
  });
}

export function closeH3Session(session) {
  try {
    session.close();
  } catch {
    // already closed
  }
}

/** Opens one extended CONNECT request stream; resolves { stream, extensions } on :status 200. */
export function openH3Stream(session, target, { deflate = false, timeoutMs = 10000 } = {}) {
  return new Promise((resolve, reject) => {
    const headers = [
      [':method', 'CONNECT'],
      [':protocol', 'websocket'],
      [':scheme', 'https'],
      [':authority', `${HOST}:${target.port}`],
      [':path', '/'],
      ['sec-websocket-version', '13'],
    ];
    if (deflate) headers.push(['sec-websocket-extensions', 'permessage-deflate']);
    let stream;
    try {
      stream = session.request(headers);
    } catch (error) {
      reject(error);
      return;
    }
    const timer = setTimeout(() => fail(new Error('HTTP/3 extended CONNECT timed out')), timeoutMs);
    const fail = (error) => {
      clearTimeout(timer);
      if (!stream.closed) stream.cancel();
      reject(error);
    };
    const onClose = () => fail(new Error('HTTP/3 stream closed before :status'));
    stream.on('error', fail);
    stream.once('close', onClose);
    stream.once('response', (response) => {
      clearTimeout(timer);
      stream.off('error', fail);
      stream.off('close', onClose);
      stream.on('error', () => {});
      const status = response.find(([name]) => name === ':status')?.[1];
      if (status !== '200') return fail(new Error(`HTTP/3 extended CONNECT answered ${status}`));
      const extensions = (response.find(([name]) => name === 'sec-websocket-extensions')?.[1] ?? '').toLowerCase();
      if (deflate && !extensions.startsWith('permessage-deflate')) return fail(new Error('deflate not negotiated over h3'));
      resolve({ stream, extensions });
    });
  });
}

export function resetH3Stream(stream) {
  if (!stream.closed) stream.cancel();
}
