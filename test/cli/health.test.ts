/**
 * `/healthz` (alive) and `/readyz` (serving; 503 from the moment shutdown
 * starts) on every listener of the binary: http://, https:// over HTTP/2 and
 * HTTP/1.1, and h2c.
 */
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type { Socket } from 'node:net';
import t from 'tap';
import { connect } from '../helpers/http1.js';
import { makeCerts, startBinary, type RunningBinary } from '../helpers/binary.js';
import { openSilentPeer } from './silent-peer.js';

const TIMEOUT = 5000;

interface Answer {
  status: number;
  contentType: string | undefined;
  cacheControl: string | undefined;
  body: string;
}

function get1(url: string, ca: string, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = url.startsWith('https:') ? https.request : http.request;
    const req = request(url, { method, ca, agent: false, timeout: TIMEOUT }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], cacheControl: res.headers['cache-control'], body }),
      );
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: ${method} ${url}`)));
    req.on('error', reject);
    req.end();
  });
}

function get2(session: http2.ClientHttp2Session, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': path });
    const timer = setTimeout(() => stream.close(http2.constants.NGHTTP2_CANCEL), TIMEOUT);
    let headers: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader = {};
    let body = '';
    stream.on('response', (h) => (headers = h));
    stream.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    stream.on('end', () => {
      clearTimeout(timer);
      resolve({ status: headers[':status'] ?? 0, contentType: headers['content-type'], cacheControl: headers['cache-control'], body });
    });
    stream.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

function connect2(url: string, ca?: string): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url, { ca });
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}

let bin: RunningBinary;
t.before(async () => {
  bin = await startBinary(['--h2c-port', '0', '--no-http3'], {}, { certDir: await makeCerts() });
});
t.teardown(() => bin?.kill());

t.test('/healthz and /readyz answer 200 over http://, https:// (HTTP/1.1 and HTTP/2) and h2c', async (t) => {
  const h2cLine = bin.logs.find((l) => l.msg === 'listening' && Array.isArray(l.protocols) && l.protocols.includes('h2c'));
  t.ok(h2cLine, 'the h2c listener logged its port');
  const secure = await connect2(`https://localhost:${bin.tlsPort}`, bin.caPem);
  t.teardown(() => secure.close());
  const cleartext = await connect2(`http://127.0.0.1:${h2cLine?.port as number}`);
  t.teardown(() => cleartext.close());
  const expected = { '/healthz': 'ok\n', '/readyz': 'ready\n' } as const;
  for (const [path, body] of Object.entries(expected)) {
    const answers: Array<[string, Answer]> = [
      ['http:// (HTTP/1.1)', await get1(`http://127.0.0.1:${bin.httpPort}${path}`, bin.caPem)],
      ['https:// (HTTP/1.1)', await get1(`https://localhost:${bin.tlsPort}${path}`, bin.caPem)],
      ['https:// (HTTP/2)', await get2(secure, path)],
      ['h2c', await get2(cleartext, path)],
    ];
    for (const [over, answer] of answers) {
      t.equal(answer.status, 200, `${path} over ${over}: 200`);
      t.equal(answer.body, body, `${path} over ${over}: body ${JSON.stringify(body)}`);
      t.match(answer.contentType, /^text\/plain\b/, `${path} over ${over}: text/plain`);
      t.equal(answer.cacheControl, 'no-store', `${path} over ${over}: never cached`);
    }
  }
});

t.test('/healthz and /readyz: HEAD has no body, other methods get 405', async (t) => {
  const head = await get1(`http://127.0.0.1:${bin.httpPort}/readyz`, bin.caPem, 'HEAD');
  t.equal(head.status, 200, 'HEAD /readyz: 200');
  t.equal(head.body, '', 'HEAD /readyz: no body');
  const post = await get1(`http://127.0.0.1:${bin.httpPort}/healthz`, bin.caPem, 'POST');
  t.equal(post.status, 405, 'POST /healthz: 405');
});

/**
 * A request the server has started to read but not finished: a connection
 * that is busy with a request survives a closing server (Node closes idle
 * connections only), and the request is handled when `finish()` sends the
 * blank line that ends its head. The head goes out pipelined behind a
 * complete GET /healthz: once that answer is back, the server has read the
 * unfinished head too (one small write on loopback is one read).
 */
async function unfinishedRequest(port: number, path: string): Promise<{ finish(): Promise<{ status: number; body: string }> }> {
  const socket: Socket = await connect({ host: '127.0.0.1', port }, TIMEOUT);
  const host = `Host: 127.0.0.1:${port}\r\n`;
  let received = '';
  socket.setEncoding('utf8');
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const firstAnswer = 'ok\n';
  await within(
    new Promise<void>((resolve) => {
      socket.on('data', (chunk: string) => {
        received += chunk;
        if (received.includes(`\r\n\r\n${firstAnswer}`)) resolve();
      });
      socket.write(`GET /healthz HTTP/1.1\r\n${host}\r\nGET ${path} HTTP/1.1\r\n${host}Connection: close\r\n`);
    }),
    `the pipelined /healthz before ${path}`,
  );
  return {
    async finish() {
      socket.write('\r\n');
      await within(closed, `the answer to ${path}`);
      const second = received.slice(received.indexOf(`\r\n\r\n${firstAnswer}`) + 4 + firstAnswer.length);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(second)?.[1] ?? 0);
      return { status, body: second.slice(second.indexOf('\r\n\r\n') + 4) };
    },
  };
}

async function within<T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timeout: ${what}`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

t.test('/readyz turns 503 the moment shutdown starts, while /healthz stays 200', async (t) => {
  const own = await startBinary(['--close-timeout', '3000', '--no-http3', '--log-level', 'debug'], {}, { certDir: bin.certDir });
  t.teardown(() => own.kill());
  // A session that never answers the close frame holds the shutdown open for the close timeout.
  const silent = await openSilentPeer(own.httpPort);
  t.teardown(() => silent.socket.destroy());
  t.equal((await get1(`http://127.0.0.1:${own.httpPort}/readyz`, own.caPem)).status, 200, 'ready before the signal');
  const readyz = await unfinishedRequest(own.httpPort, '/readyz');
  const healthz = await unfinishedRequest(own.httpPort, '/healthz');

  process.kill(own.pid, 'SIGTERM');
  await own.waitForLog((l) => l.msg === 'shutting down', { what: '"shutting down"' });
  t.equal(await silent.firstFrameByte, 0x88, 'the silent session got its close frame and does not answer');
  const notReady = await readyz.finish();
  t.equal(notReady.status, 503, '/readyz during the shutdown: 503');
  t.equal(notReady.body, 'shutting down\n', '/readyz says why');
  const alive = await healthz.finish();
  t.equal(alive.status, 200, '/healthz during the shutdown: 200 (the process is alive)');
  t.equal(alive.body, 'ok\n', '/healthz body');

  const exit = await within(own.exited, 'the exit after the close timeout');
  t.equal(exit.code, 0, 'exit code 0 once the close timeout ended the silent session');
  t.ok(own.logs.some((l) => l.msg === 'close timeout: aborting the transport'), 'the shutdown was held open until the close timeout');
});
