// The server's 'headers' event and the client's 'upgrade' event, the same over
// HTTP/1.1 (101, RFC 6455 §4.2.2), HTTP/2 (:status 200, RFC 8441 §5) and
// HTTP/3 (:status 200, RFC 9220 §3), read by our client and by independent ones.
import type { Socket } from 'node:net';
import t, { type Test } from 'tap';
import { WebSocket, WebSocketServer, quicAvailable, type HandshakeRequest, type HandshakeResponse, type UnexpectedResponse } from '../../src/index.js';
import { connect as rawConnect, newKey } from '../helpers/http1.js';
import { connectH2, extendedConnect } from '../conformance/http2-target.js';
import { rawH3Request } from '../../src/conformance/h3-raw.js';
import { captureLogger } from '../helpers/robustness.js';
import type { LogLine } from '../helpers/binary.js';
import { makeTls } from '../transports/http2/tls.js';

const { tls, ca } = makeTls();
const http3 = quicAvailable();
const TRANSPORTS = ['http/1.1', 'h2', ...(http3 ? ['h3' as const] : [])] as const;
type Transport = (typeof TRANSPORTS)[number];

/** A TLS server with HTTP/2 and (where QUIC runs) HTTP/3 on the same port, its logs captured. */
async function serve(t: Test): Promise<{ wss: WebSocketServer; port: number; lines: LogLine[] }> {
  const { logger, lines } = captureLogger('info');
  const wss = new WebSocketServer({ noServer: true, logger, handleProtocols: (offered) => offered[0] });
  const { port } = await wss.listen({ host: '127.0.0.1', port: 0, tls, http3 });
  t.teardown(() => wss.close());
  return { wss, port, lines };
}

/** Our client's answer to one handshake: the 'upgrade' response (then 'open'), the refusal, or neither. */
function handshake(t: Test, port: number, transport: Transport): Promise<{ events: string[]; upgrade?: HandshakeResponse; refusal?: UnexpectedResponse }> {
  const ws = new WebSocket(`wss://127.0.0.1:${port}/chat?room=1`, ['chat'], { ca, servername: 'localhost', transport });
  t.teardown(() => ws.terminate());
  const events: string[] = [];
  let upgrade: HandshakeResponse | undefined;
  ws.on('upgrade', (response) => {
    events.push('upgrade');
    upgrade = response;
  });
  return new Promise((resolve) => {
    ws.once('open', () => {
      events.push('open');
      resolve({ events, upgrade });
    });
    ws.once('unexpected-response', (refusal) => resolve({ events, refusal }));
    ws.on('error', () => {});
    // Neither opened nor refused with an answer (the client rejected it): resolve, so the checks fail at once.
    ws.once('close', () => resolve({ events }));
  });
}

/** The raw bytes of an HTTP/1.1 response head (up to the blank line, or all of it if the server closes first). */
function rawHead(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end >= 0) resolve(text.slice(0, end + 4));
    });
    socket.once('end', () => resolve(text));
    socket.once('error', reject);
  });
}

async function rawHttp1Head(t: Test, port: number): Promise<string> {
  const socket = await rawConnect({ host: '127.0.0.1', port, tls: { ca, servername: 'localhost' } }, 3000);
  t.teardown(() => socket.destroy());
  const head = rawHead(socket);
  socket.write(
    'GET /chat HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Key: ${newKey()}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat\r\n\r\n`,
  );
  return head;
}

const addFields = (headers: string[]): void => {
  headers.push('Set-Cookie: sid=abc; Secure', 'Set-Cookie: theme=dark', 'X-Powered-By: trident');
};

t.test("'headers' adds fields that our client's 'upgrade' reports, before 'open', on every transport", async (t) => {
  const { wss, port } = await serve(t);
  const seen: Array<{ lines: string[]; request: HandshakeRequest }> = [];
  wss.on('headers', (headers, request) => {
    seen.push({ lines: [...headers], request });
    addFields(headers);
  });
  for (const transport of TRANSPORTS) {
    const { events, upgrade } = await handshake(t, port, transport);
    t.same(events, ['upgrade', 'open'], `${transport}: 'upgrade' comes once, before 'open'`);
    t.equal(upgrade?.status, transport === 'http/1.1' ? 101 : 200, `${transport}: status`);
    t.same(upgrade?.headers['set-cookie'], ['sid=abc; Secure', 'theme=dark'], `${transport}: both cookies`);
    t.equal(upgrade?.headers['x-powered-by'], 'trident', `${transport}: the custom field`);
    t.equal(upgrade?.headers['sec-websocket-protocol'], 'chat', `${transport}: the negotiated subprotocol`);
    const last = seen.at(-1);
    t.equal(seen.length, TRANSPORTS.indexOf(transport) + 1, `${transport}: one 'headers' per handshake`);
    t.equal(last?.request.transport, transport, `${transport}: the listener got the request`);
    t.equal(last?.request.url, '/chat?room=1');
    t.ok(last?.lines.includes('sec-websocket-protocol: chat'), `${transport}: the listener saw the negotiated subprotocol line`);
    t.notOk(
      last?.lines.some((line) => /^(upgrade|connection|sec-websocket-accept):/i.test(line)),
      `${transport}: no HTTP/1.1-only fields in the lines`,
    );
  }
});

t.test('independent clients read the fields: raw HTTP/1.1, node:http2, a raw HTTP/3 request', async (t) => {
  const { wss, port } = await serve(t);
  wss.on('headers', addFields);

  const head = await rawHttp1Head(t, port);
  t.match(head, /^HTTP\/1\.1 101 /, 'HTTP/1.1: 101');
  // Names go out as the listener wrote them on HTTP/1.1, each line once.
  t.equal(head.split('\r\nSet-Cookie: sid=abc; Secure\r\n').length, 2, 'HTTP/1.1: the first cookie line');
  t.equal(head.split('\r\nSet-Cookie: theme=dark\r\n').length, 2, 'HTTP/1.1: the second cookie line');
  t.equal(head.split('\r\nX-Powered-By: trident\r\n').length, 2, 'HTTP/1.1: the custom field');
  t.equal(head.split(/\r\nUpgrade: websocket\r\n/i).length, 2, 'HTTP/1.1: one Upgrade, the front-end’s');

  const session = await connectH2(`https://localhost:${port}`, ca);
  t.teardown(() => session.destroy());
  const { stream, headers } = await extendedConnect(session, `https://localhost:${port}`, { path: '/chat', protocols: ['chat'] });
  t.teardown(() => stream.destroy());
  t.equal(headers[':status'], 200, 'HTTP/2: 200');
  t.same(headers['set-cookie'], ['sid=abc; Secure', 'theme=dark'], 'HTTP/2: both cookies, as two field lines');
  t.equal(headers['x-powered-by'], 'trident', 'HTTP/2: the custom field');

  if (!http3) return;
  const answer = await rawH3Request(
    { host: '127.0.0.1', port, servername: 'localhost', ca },
    [
      [':method', 'CONNECT'],
      [':protocol', 'websocket'],
      [':scheme', 'https'],
      [':authority', `localhost:${port}`],
      [':path', '/chat'],
      ['sec-websocket-version', '13'],
    ],
    5000,
  );
  t.equal(answer.kind, 'response', 'HTTP/3: a response');
  if (answer.kind !== 'response') return;
  t.same(
    answer.headers,
    [
      [':status', '200'],
      ['set-cookie', 'sid=abc; Secure'],
      ['set-cookie', 'theme=dark'],
      ['x-powered-by', 'trident'],
    ],
    'HTTP/3: every field line, lower-case, in order',
  );
});

/** The bad edits, and what the error log line must quote: the offending line (JSON-escaped, so CR LF shows), or the listener's error. */
const pushing = (line: string): [(headers: string[]) => void, string] => [(headers) => headers.push(line), JSON.stringify(line)];
const INVALID: Array<[what: string, edit: (headers: string[]) => void, logged: string]> = [
  ['a CRLF in a value', ...pushing('X-Note: a\r\nX-Injected: yes')],
  ['Connection: close', ...pushing('Connection: close')],
  ['Content-Length: 0', ...pushing('Content-Length: 0')],
  ['a name with a space', ...pushing('X Bad: 1')],
  [
    'a throwing listener',
    () => {
      throw new Error('listener failed on purpose');
    },
    'listener failed on purpose',
  ],
];

t.test('an invalid line or a throwing listener: 500, one error log line, nothing of it sent; the server keeps serving', async (t) => {
  const { wss, port, lines } = await serve(t);
  let edit: (headers: string[]) => void = () => {};
  wss.on('headers', (headers) => edit(headers));
  for (const transport of TRANSPORTS) {
    for (const [what, bad, logged] of INVALID) {
      edit = bad;
      const before = lines.length;
      const { refusal } = await handshake(t, port, transport);
      t.equal(refusal?.status, 500, `${transport}, ${what}: 500`);
      t.equal(refusal?.headers['x-injected'], undefined, `${transport}, ${what}: no injected field`);
      const errors = lines.slice(before).filter((entry) => entry.level === 50);
      t.equal(errors.length, 1, `${transport}, ${what}: one error line`);
      const message = (errors[0]?.err as { message?: string } | undefined)?.message ?? '';
      t.ok(message.includes(logged), `${transport}, ${what}: the log quotes ${logged}`);
    }
    edit = () => {};
    const { events } = await handshake(t, port, transport);
    t.same(events, ['upgrade', 'open'], `${transport}: the next handshake is accepted`);
  }
  // The injection attempt on the wire: the raw 500 carries no trace of it.
  edit = INVALID[0][1];
  const head = await rawHttp1Head(t, port);
  t.match(head, /^HTTP\/1\.1 500 /, 'raw HTTP/1.1: 500');
  t.notOk(head.includes('X-Injected'), 'raw HTTP/1.1: the injected line is not on the wire');
});

t.test("a listener that closes the client in 'upgrade' stops 'open'", async (t) => {
  const { port } = await serve(t);
  for (const transport of TRANSPORTS) {
    const ws = new WebSocket(`wss://127.0.0.1:${port}/`, { ca, servername: 'localhost', transport });
    const events: string[] = [];
    ws.on('upgrade', () => {
      events.push('upgrade');
      ws.close();
    });
    ws.on('open', () => events.push('open'));
    ws.on('error', () => events.push('error'));
    const [code] = await new Promise<[number]>((resolve) => ws.once('close', (c) => resolve([c])));
    t.same(events, ['upgrade', 'error'], `${transport}: no 'open'`);
    t.equal(code, 1006, `${transport}: closed abnormally`);
  }
});
