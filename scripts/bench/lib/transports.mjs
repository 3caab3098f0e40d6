// Opening WebSockets for the load generator without any WebSocket library:
// - HTTP/1.1: net/tls sockets and a hand-written Upgrade request (fixed key,
//   pre-computed accept), the 101 head parsed by hand;
// - HTTP/2: node:http2 client sessions, waiting for the server's SETTINGS with
//   SETTINGS_ENABLE_CONNECT_PROTOCOL, then extended CONNECT streams (RFC 8441);
// - HTTP/3: the extension point (see h3.mjs).
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { CLOSE_FRAME, OP_CLOSE, SAMPLE_ACCEPT, SAMPLE_KEY, headerLength } from './frames.mjs';

export const HOST = '127.0.0.1';
const END_OF_HEAD = Buffer.from('\r\n\r\n');
const DEFLATE_OFFER = 'permessage-deflate';

function upgradeRequest(port, deflate) {
  return Buffer.from(
    `GET / HTTP/1.1\r\nHost: ${HOST}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${SAMPLE_KEY}\r\nSec-WebSocket-Version: 13\r\n` +
      (deflate ? `Sec-WebSocket-Extensions: ${DEFLATE_OFFER}\r\n` : '') +
      '\r\n',
  );
}
const requestCache = new Map();
function cachedRequest(port, deflate) {
  const key = `${port}/${deflate}`;
  let request = requestCache.get(key);
  if (!request) requestCache.set(key, (request = upgradeRequest(port, deflate)));
  return request;
}

/** Checks a 101 head; returns the negotiated extensions (lower case) or throws. */
function checkUpgradeHead(head, { deflate, raw }) {
  const text = head.toString('latin1');
  const lines = text.split('\r\n');
  if (!/^HTTP\/1\.1 101 /.test(lines[0])) throw new Error(`handshake refused: ${lines[0]}`);
  const headers = new Map();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  if (headers.get('sec-websocket-accept') !== SAMPLE_ACCEPT) throw new Error('bad Sec-WebSocket-Accept');
  const extensions = (headers.get('sec-websocket-extensions') ?? '').toLowerCase();
  if (!raw && deflate && !extensions.startsWith('permessage-deflate')) throw new Error(`deflate not negotiated: "${extensions}"`);
  if (!raw && !deflate && extensions !== '') throw new Error(`unexpected extensions "${extensions}"`);
  return extensions;
}

/**
 * Opens a WebSocket over HTTP/1.1 (ws:// or wss:// with ALPN http/1.1).
 * Resolves { socket, rest, extensions } with the data listener removed; `rest`
 * holds bytes that followed the 101 head.
 */
export function openH1(target, { deflate = false, timeoutMs = 10000 } = {}) {
  return new Promise((resolve, reject) => {
    const socket = target.tls
      ? tls.connect({ host: HOST, port: target.port, ALPNProtocols: ['http/1.1'], rejectUnauthorized: false, servername: 'localhost' })
      : net.connect({ host: HOST, port: target.port });
    socket.setNoDelay(true);
    let head = null;
    const timer = setTimeout(() => fail(new Error('HTTP/1.1 handshake timed out')), timeoutMs);
    const fail = (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    socket.once(target.tls ? 'secureConnect' : 'connect', () => socket.write(cachedRequest(target.port, deflate)));
    const onData = (chunk) => {
      head = head === null ? chunk : Buffer.concat([head, chunk]);
      const end = head.indexOf(END_OF_HEAD);
      if (end === -1) return;
      socket.off('data', onData);
      socket.off('error', fail);
      socket.off('close', onClose);
      socket.pause();
      clearTimeout(timer);
      try {
        const extensions = checkUpgradeHead(head.subarray(0, end), { deflate, raw: target.raw });
        resolve({ socket, rest: head.subarray(end + 4), extensions });
      } catch (error) {
        fail(error);
      }
    };
    const onClose = () => fail(new Error('connection closed during the handshake'));
    socket.on('data', onData);
    socket.on('error', fail);
    socket.once('close', onClose);
  });
}

/** Opens an HTTP/2 connection and waits until its SETTINGS allow extended CONNECT. */
export function openH2Session(target, { timeoutMs = 10000 } = {}) {
  return new Promise((resolve, reject) => {
    // Our own TLS socket: destroying it is the only sure way to drop a connection whose
    // send buffers are full (Http2Session.destroy() then leaves the socket open).
    let socket;
    const session = http2.connect(`https://${HOST}:${target.port}`, {
      createConnection: () =>
        (socket = tls.connect({ host: HOST, port: target.port, servername: 'localhost', ALPNProtocols: ['h2'], rejectUnauthorized: false })),
      // Windows as large as the servers' own, so flow control is not what is measured.
      settings: { initialWindowSize: 1024 * 1024, enablePush: false },
      maxSessionMemory: 1000,
      peerMaxConcurrentStreams: 1000,
    });
    const timer = setTimeout(() => {
      session.destroy();
      reject(new Error('HTTP/2 connection timed out'));
    }, timeoutMs);
    session.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    session.once('remoteSettings', (settings) => {
      clearTimeout(timer);
      if (settings.enableConnectProtocol !== true) {
        session.destroy();
        reject(new Error('server SETTINGS lack SETTINGS_ENABLE_CONNECT_PROTOCOL'));
        return;
      }
      session.setLocalWindowSize(64 * 1024 * 1024);
      session.benchSocket = socket;
      resolve(session);
    });
  });
}

/** Opens one extended CONNECT stream; resolves { stream, extensions } once :status 200 arrived. */
export function openH2Stream(session, target, { deflate = false, timeoutMs = 10000 } = {}) {
  return new Promise((resolve, reject) => {
    const headers = {
      ':method': 'CONNECT',
      ':protocol': 'websocket',
      ':scheme': 'https',
      ':path': '/',
      ':authority': `${HOST}:${target.port}`,
      'sec-websocket-version': '13',
    };
    if (deflate) headers['sec-websocket-extensions'] = DEFLATE_OFFER;
    let stream;
    try {
      stream = session.request(headers, { endStream: false });
    } catch (error) {
      reject(error);
      return;
    }
    const timer = setTimeout(() => fail(new Error('extended CONNECT timed out')), timeoutMs);
    const fail = (error) => {
      clearTimeout(timer);
      if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
      reject(error);
    };
    stream.once('error', fail);
    stream.once('close', () => fail(new Error(`stream closed before :status (code ${stream.rstCode})`)));
    stream.once('response', (response) => {
      clearTimeout(timer);
      stream.off('error', fail);
      stream.removeAllListeners('close');
      stream.on('error', () => {});
      if (response[':status'] !== 200) return fail(new Error(`extended CONNECT answered ${response[':status']}`));
      const extensions = String(response['sec-websocket-extensions'] ?? '').toLowerCase();
      if (!target.raw && deflate && !extensions.startsWith('permessage-deflate')) return fail(new Error('deflate not negotiated over h2'));
      resolve({ stream, extensions });
    });
  });
}

/**
 * Watches a byte stream for the server's close frame (opcode 8) after we sent
 * ours; resolves once the transport is fully closed. Frames before it are skipped.
 */
export function closeWatcher(onCloseFrame) {
  let pending = Buffer.alloc(0);
  let seen = false;
  const feed = (chunk) => {
    if (seen) return;
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    for (;;) {
      if (pending.length < 2) return;
      const hLength = headerLength(pending[1]);
      if (pending.length < hLength) return;
      const length7 = pending[1] & 0x7f;
      const length = length7 === 126 ? pending.readUInt16BE(2) : length7 === 127 ? pending.readUInt32BE(6) : length7;
      if ((pending[0] & 0x0f) === OP_CLOSE) {
        seen = true;
        onCloseFrame();
        return;
      }
      if (pending.length < hLength + length) return;
      pending = pending.subarray(hLength + length);
    }
  };
  return { feed, seen: () => seen };
}

/**
 * One full WebSocket lifetime over HTTP/1.1: connect, Upgrade, send a close
 * frame, get the server's close frame, and wait for the TCP connection to close
 * (the server closes first, RFC 6455 §7.1.1).
 */
export function h1Lifetime(target, { timeoutMs = 10000 } = {}) {
  return openH1(target, { timeoutMs }).then(
    ({ socket, rest }) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          socket.destroy();
          reject(new Error('close handshake timed out'));
        }, timeoutMs);
        socket.on('error', () => {});
        const watcher = closeWatcher(() => socket.end());
        socket.once('close', () => {
          clearTimeout(timer);
          if (watcher.seen()) resolve();
          else reject(new Error('connection closed without a close frame'));
        });
        socket.write(CLOSE_FRAME);
        if (rest.length > 0) watcher.feed(rest);
        socket.on('data', watcher.feed);
        socket.resume();
      }),
  );
}

/** One full WebSocket lifetime over HTTP/2: extended CONNECT, close frames both ways, END_STREAM both ways. */
export function h2Lifetime(session, target, { timeoutMs = 10000 } = {}) {
  return openH2Stream(session, target, { timeoutMs }).then(
    ({ stream }) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          stream.close(http2.constants.NGHTTP2_CANCEL);
          reject(new Error('close handshake timed out'));
        }, timeoutMs);
        const watcher = closeWatcher(() => stream.end());
        stream.on('data', watcher.feed);
        stream.once('close', () => {
          clearTimeout(timer);
          if (watcher.seen() && stream.rstCode === http2.constants.NGHTTP2_NO_ERROR) resolve();
          else reject(new Error(`stream closed without a clean close (seen ${watcher.seen()}, rst ${stream.rstCode})`));
        });
        stream.write(CLOSE_FRAME);
      }),
  );
}

/** Ends a load socket at once (RST for plain TCP: no TIME_WAIT piles up across cases). */
export function resetSocket(socket) {
  if (socket.destroyed) return;
  if (!socket.encrypted && typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}

/** Drops an HTTP/2 connection at once: the session, then its TCP connection. */
export function destroySession(session) {
  session.destroy();
  session.benchSocket?.destroy();
}

/** Ends a load stream at once with RST_STREAM(CANCEL). */
export function resetStream(stream) {
  if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
}
