/**
 * HTTP/1.1 opening-handshake cases (RFC 6455 §4.1, §4.2) with exact raw
 * requests on raw sockets.
 *
 *   runHttp1HandshakeCases(t: Test, opts: Http1HandshakeOptions): Promise<void>
 *
 * Server contract: `/echo` is a WebSocket endpoint; a bad handshake gets the
 * status listed per case; the server keeps serving after garbage input.
 */
import {
  acceptFor,
  connect,
  headerTokens,
  headerValue,
  hostHeader,
  newKey,
  readResponseHead,
} from '../http1-raw.js';
import type { Endpoint, ReadHeadResult } from '../http1-raw.js';
import { OP, textFrame } from '../frames.js';
import { StreamPeer } from '../stream-peer.js';
import type { Assert } from '../recorder.js';
import type { CaseDef, Category } from '../case-types.js';
import type net from 'node:net';

interface Exchange {
  result: ReadHeadResult;
  key: string;
  sock: net.Socket;
}

/** per-case context: assertions plus cleanup registration */
interface HC {
  a: Assert;
  teardown(fn: () => void): void;
}

/** Oversized header block for 20.11: above any sane server limit (RFC 6455 leaves the limit to the server). */
const OVERSIZED_HEADER_BYTES = 64 * 1024;

/** resolves with how the connection ended ('end' / 'reset'), or rejects after timeoutMs */
function waitClosed(sock: net.Socket, timeoutMs: number): Promise<'end' | 'reset'> {
  if (sock.destroyed) return Promise.resolve('reset');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timeout: connection still open after ${timeoutMs} ms`)), timeoutMs);
    const done = (how: 'end' | 'reset') => {
      clearTimeout(timer);
      resolve(how);
    };
    sock.once('end', () => done('end'));
    sock.once('error', () => done('reset'));
    sock.once('close', () => done('reset'));
    sock.resume();
  });
}

const CRLF = '\r\n';

function http1Cases(ep: Endpoint, path: string, timeout: number): CaseDef[] {
  const host = hostHeader(ep);

  /** send raw request text (with `{key}` replaced by a fresh key) and read the response head */
  const exchange = async (tt: HC, raw: string | ((key: string) => string | Uint8Array)): Promise<Exchange> => {
    const key = newKey();
    const sock = await connect(ep, timeout);
    tt.teardown(() => sock.destroy());
    sock.on('error', () => {
      /* observed through readResponseHead */
    });
    const req = typeof raw === 'string' ? raw.replaceAll('{key}', key) : raw(key);
    sock.write(req);
    const result = await readResponseHead(sock, timeout);
    return { result, key, sock };
  };

  const request = (lines: string[]) => lines.join(CRLF) + CRLF + CRLF;
  const base = (over: Record<string, string | null> = {}, first = `GET ${path} HTTP/1.1`): string => {
    const h: Record<string, string | null> = {
      Host: host,
      Upgrade: 'websocket',
      Connection: 'Upgrade',
      'Sec-WebSocket-Key': '{key}',
      'Sec-WebSocket-Version': '13',
      ...over,
    };
    return request([first, ...Object.entries(h).filter(([, v]) => v !== null).map(([k, v]) => `${k}: ${v}`)]);
  };

  const status = (tt: HC, ex: Exchange): number | undefined => {
    if (ex.result.kind === 'closed') {
      tt.a.fail(`server closed the connection (${ex.result.how}) without a response`);
      return undefined;
    }
    return ex.result.head.status;
  };

  const check101 = ({ a }: HC, ex: Exchange) => {
    if (ex.result.kind !== 'response') {
      a.fail(`no response, connection ${ex.result.how}`);
      return undefined;
    }
    const h = ex.result.head;
    a.equal(h.status, 101, '101 Switching Protocols');
    a.equal(h.headers['sec-websocket-accept'], acceptFor(ex.key), 'Sec-WebSocket-Accept = base64(SHA-1(key + GUID))');
    a.equal(headerValue(h.headers['upgrade'])?.toLowerCase(), 'websocket', 'Upgrade: websocket');
    a.ok(headerTokens(h.headers['connection']).some((x) => x.toLowerCase() === 'upgrade'), 'Connection includes Upgrade');
    return h;
  };

  const cases: Array<{ id: string; title: string; run: (tt: HC) => Promise<void> }> = [];
  const add = (id: string, title: string, run: (tt: HC) => Promise<void>) => cases.push({ id, title, run });
  /** `want`: the status (or a test of it) the RFC requires; `prefer`: statuses it recommends (others: NON-STRICT) */
  const expectStatus = (
    id: string,
    title: string,
    raw: string | ((key: string) => string),
    want: number | ((s: number) => boolean),
    extra?: (tt: HC, ex: Exchange) => void,
    prefer?: readonly number[],
  ) =>
    add(id, title, async (tt) => {
      const ex = await exchange(tt, raw);
      const s = status(tt, ex);
      if (s === undefined) return;
      tt.a.comment(`answer: ${s}`);
      if (typeof want === 'number') tt.a.equal(s, want, `status ${want}`);
      else tt.a.ok(want(s), `status ${s} acceptable`);
      tt.a.not(s, 101, 'not upgraded');
      if (prefer && !prefer.includes(s) && s !== 101) tt.a.nonStrict(`answered ${s}, RFC 6455 suggests ${prefer.join(' or ')}`);
      extra?.(tt, ex);
    });
  const clientError = (s: number) => s >= 400 && s < 500;

  add('H.1', 'correct request → 101 with the right Sec-WebSocket-Accept, no protocol/extension headers', async (tt) => {
    const ex = await exchange(tt, base());
    const h = check101(tt, ex);
    if (!h) return;
    tt.a.equal(h.headers['sec-websocket-protocol'], undefined, 'no Sec-WebSocket-Protocol (none offered)');
    tt.a.equal(h.headers['sec-websocket-extensions'], undefined, 'no Sec-WebSocket-Extensions (none offered)');
    tt.a.equal(h.version, 'HTTP/1.1', 'HTTP/1.1 status line');
  });
  add('H.2', 'request and first frame in ONE write → 101, then the frame is echoed', async (tt) => {
    const sock = await connect(ep, timeout);
    tt.teardown(() => sock.destroy());
    const key = newKey();
    sock.write(Buffer.concat([Buffer.from(base().replaceAll('{key}', key)), Buffer.from(textFrame('early frame'))]));
    const r = await readResponseHead(sock, timeout);
    if (r.kind !== 'response') return void tt.a.fail('no response');
    tt.a.equal(r.head.status, 101, '101 Switching Protocols');
    tt.a.equal(r.head.headers['sec-websocket-accept'], acceptFor(key), 'Sec-WebSocket-Accept');
    const peer = new StreamPeer(sock, { status: 101, headers: r.head.headers }, r.head.rest, { defaultTimeoutMs: timeout });
    const f = await peer.nextFrame();
    tt.a.equal(f.opcode, OP.TEXT, 'echo is a text frame');
    tt.a.equal(Buffer.from(f.payload).toString(), 'early frame', 'echo payload');
  });
  expectStatus('H.3.1', 'missing Sec-WebSocket-Key → 400', base({ 'Sec-WebSocket-Key': null }), 400);
  expectStatus('H.3.2', 'Sec-WebSocket-Key of 15 bytes → 400', base({ 'Sec-WebSocket-Key': Buffer.alloc(15, 1).toString('base64') }), 400);
  expectStatus('H.3.3', 'Sec-WebSocket-Key of 17 bytes → 400', base({ 'Sec-WebSocket-Key': Buffer.alloc(17, 1).toString('base64') }), 400);
  expectStatus('H.3.4', 'Sec-WebSocket-Key that is not base64 (24 chars) → 400', base({ 'Sec-WebSocket-Key': 'not*base64*at*all*!!!!==' }), 400);
  expectStatus('H.3.5', 'empty Sec-WebSocket-Key → 400', base({ 'Sec-WebSocket-Key': '' }), 400);
  const versionHeader = (tt: HC, ex: Exchange) => {
    if (ex.result.kind !== 'response') return;
    tt.a.ok(headerTokens(ex.result.head.headers['sec-websocket-version']).includes('13'), 'Sec-WebSocket-Version lists 13 (RFC 6455 §4.2.2)', {
      found: ex.result.head.headers['sec-websocket-version'],
    });
  };
  // RFC 6455 §4.2.2: an unknown version gets "an appropriate HTTP error code (such as 426 Upgrade
  // Required)" and, a MUST, a Sec-WebSocket-Version header listing the versions the server speaks
  expectStatus('H.4.1', 'Sec-WebSocket-Version: 8 → 4xx (426 recommended) with Sec-WebSocket-Version: 13', base({ 'Sec-WebSocket-Version': '8' }), clientError, versionHeader, [426]);
  // a missing header makes the request malformed (§4.2.1): 400, or 426 as for an unknown version
  expectStatus('H.4.2', 'missing Sec-WebSocket-Version → 400 or 426', base({ 'Sec-WebSocket-Version': null }), (s) => s === 400 || s === 426);
  expectStatus('H.4.3', 'Sec-WebSocket-Version: 14 → 4xx (426 recommended) with Sec-WebSocket-Version: 13', base({ 'Sec-WebSocket-Version': '14' }), clientError, versionHeader, [426]);
  expectStatus('H.5', 'POST instead of GET → 4xx (400 or 405), not 101', base({ 'Content-Length': '0' }, `POST ${path} HTTP/1.1`), (s) => s >= 400 && s < 500);
  expectStatus('H.6', 'HTTP/1.0 request → 400 (RFC 6455 §4.2.1: HTTP/1.1 or higher)', base({}, `GET ${path} HTTP/1.0`), 400);
  // §4.2.1: "an appropriate error code (such as 400 Bad Request)"; 426 Upgrade Required (RFC 9110 §15.5.22) fits too
  const badUpgrade = [400, 426];
  expectStatus('H.7.1', 'missing Upgrade header → 4xx (400 or 426)', base({ Upgrade: null }), clientError, undefined, badUpgrade);
  expectStatus('H.7.2', 'missing Connection header → 4xx (400 or 426)', base({ Connection: null }), clientError, undefined, badUpgrade);
  expectStatus('H.7.3', 'Connection: keep-alive (no Upgrade token) → 4xx (400 or 426)', base({ Connection: 'keep-alive' }), clientError, undefined, badUpgrade);
  expectStatus('H.7.4', 'Upgrade: h2c instead of websocket → 4xx (400 or 426)', base({ Upgrade: 'h2c' }), clientError, undefined, badUpgrade);
  add('H.8.1', '"Connection: keep-alive, Upgrade" → 101', async (tt) => {
    check101(tt, await exchange(tt, base({ Connection: 'keep-alive, Upgrade' })));
  });
  add('H.8.2', 'mixed case "Upgrade: WebSocket", "connection: upgrade", lower-case header names → 101', async (tt) => {
    const raw = request([
      `GET ${path} HTTP/1.1`,
      `host: ${host}`,
      'upgrade: WebSocket',
      'connection: upgrade',
      'sec-websocket-key: {key}',
      'sec-websocket-version: 13',
    ]);
    check101(tt, await exchange(tt, raw));
  });
  const protoCheck = (tt: HC, ex: Exchange) => {
    const h = check101(tt, ex);
    if (!h) return;
    const p = headerTokens(h.headers['sec-websocket-protocol']);
    // RFC 6455 §4.2.2: the server selects one of the offered subprotocols, or none
    if (p.length === 0) return tt.a.informational('the server selected no subprotocol (allowed; it depends on its configuration)');
    tt.a.equal(p.length, 1, 'exactly one subprotocol selected', { found: h.headers['sec-websocket-protocol'] });
    tt.a.ok(p.length === 1 && ['a', 'b'].includes(p[0]!), `selected protocol ${p[0]} was offered`);
  };
  add('H.9.1', 'Sec-WebSocket-Protocol: a, b on one line → 101 selecting a, b or none', async (tt) => {
    protoCheck(tt, await exchange(tt, base({ 'Sec-WebSocket-Protocol': 'a, b' })));
  });
  add('H.9.2', 'Sec-WebSocket-Protocol a and b on two header lines → 101 selecting a, b or none', async (tt) => {
    const raw = base().replace(CRLF + CRLF, `${CRLF}Sec-WebSocket-Protocol: a${CRLF}Sec-WebSocket-Protocol: b${CRLF}${CRLF}`);
    protoCheck(tt, await exchange(tt, raw));
  });
  add('H.9.3', 'no protocol offered → no Sec-WebSocket-Protocol in the response', async (tt) => {
    const h = check101(tt, await exchange(tt, base()));
    if (h) tt.a.equal(h.headers['sec-websocket-protocol'], undefined, 'no Sec-WebSocket-Protocol');
  });
  add('H.10', 'unknown extension offered → ignored (101, no Sec-WebSocket-Extensions)', async (tt) => {
    const h = check101(tt, await exchange(tt, base({ 'Sec-WebSocket-Extensions': 'x-unknown-extension; foo=1' })));
    if (h) tt.a.equal(h.headers['sec-websocket-extensions'], undefined, 'no Sec-WebSocket-Extensions');
  });
  const big = OVERSIZED_HEADER_BYTES;
  expectStatus(
    'H.11',
    `header block of ${big} bytes → 431 (or 400), not 101`,
    base({ 'X-Padding': 'p'.repeat(big) }),
    (s) => s === 431 || s === 400,
  );
  add('H.12', 'garbage bytes instead of a request → connection closed, no 101; the server still accepts a good request', async (tt) => {
    const ex = await exchange(tt, () => Uint8Array.from({ length: 300 }, (_, i) => (i * 37 + 1) % 256));
    if (ex.result.kind === 'response') {
      tt.a.not(ex.result.head.status, 101, `answered ${ex.result.head.status}, not 101`);
      const how = await waitClosed(ex.sock, timeout);
      tt.a.pass(`then the connection was closed (${how})`);
    } else {
      tt.a.pass(`connection closed (${ex.result.how})`);
    }
    check101(tt, await exchange(tt, base()));
  });

  return cases.map((c) => ({
    id: c.id.replace(/^H\./, '20.'),
    title: c.title,
    run: (ctx) => c.run({ a: ctx.t, teardown: ctx.defer }),
  }));
}

/**
 * Category 20 (ours; Autobahn has none): the HTTP/1.1 opening handshake
 * (RFC 6455 §4.1, §4.2) with exact raw requests on raw sockets: 426 with the
 * version list, the 400s, subprotocol and extension negotiation.
 * Server contract: the echo path is a WebSocket endpoint; the server keeps
 * serving after garbage input.
 */
export const http1HandshakeCategory: Category = {
  id: '20',
  title: 'HTTP/1.1 opening handshake (RFC 6455 §4)',
  transports: ['http/1.1'],
  cases(env) {
    const raw = env.target.raw;
    if (raw?.kind !== 'http/1.1') {
      return http1Cases({ host: '127.0.0.1', port: 0 }, '/', env.timeoutMs).map((c) => ({ ...c, skip: 'the target gives no raw HTTP/1.1 endpoint' }));
    }
    return http1Cases(raw.endpoint, raw.path, Math.max(env.timeoutMs, 3000));
  },
};
