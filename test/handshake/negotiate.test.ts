import t from 'tap';
import { HookFailure, negotiate, type NegotiationOptions } from '../../src/handshake/negotiate.js';
import { HandshakeRejection, rejectHandshake } from '../../src/handshake/rejection.js';
import { HandshakeRequest } from '../../src/handshake/request.js';

function request(headers: Record<string, string[] | undefined> = {}, transport: 'http/1.1' | 'h2' = 'http/1.1'): HandshakeRequest {
  return new HandshakeRequest({
    transport,
    method: transport === 'h2' ? 'CONNECT' : 'GET',
    connectProtocol: transport === 'h2' ? 'websocket' : undefined,
    scheme: 'https',
    authority: 'example.com',
    url: '/ws',
    httpVersion: transport === 'h2' ? '2.0' : '1.1',
    headers: { 'sec-websocket-version': ['13'], ...headers },
  });
}

async function rejection(promise: Promise<unknown>): Promise<HandshakeRejection> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof HandshakeRejection) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

t.test('version: 13, or a list with 13 in it; else 426 naming 13 (RFC 6455 §4.2.2, §4.4)', async (t) => {
  t.equal((await negotiate(request(), {})).protocol, '');
  for (const version of [['13, 8'], ['8, 13'], ['8,13, 7']]) {
    await t.resolves(negotiate(request({ 'sec-websocket-version': version }), {}), `version ${JSON.stringify(version)} accepted with 13`);
  }
  for (const version of [['8'], ['12'], ['8, 7'], ['13', '13'], ['', ''], undefined, ['130, 1 3']]) {
    const r = await rejection(negotiate(request({ 'sec-websocket-version': version }), {}));
    t.equal(r.status, 426, `version ${JSON.stringify(version)}`);
    t.same(r.headers, { 'sec-websocket-version': '13' });
  }
});

t.test('subprotocols', async (t) => {
  const offered = { 'sec-websocket-protocol': ['chat, superchat', 'v2.json'] };
  t.equal((await negotiate(request(offered), {})).protocol, 'chat', "default: the client's first choice");
  const seen: string[][] = [];
  const pick: NegotiationOptions = {
    handleProtocols: (list) => {
      seen.push([...list]);
      return 'v2.json';
    },
  };
  t.equal((await negotiate(request(offered), pick)).protocol, 'v2.json');
  t.same(seen, [['chat', 'superchat', 'v2.json']], 'offers from several lines and comma lists');
  t.equal((await negotiate(request(offered), { handleProtocols: () => false })).protocol, '', 'the app may choose none');
  t.equal((await negotiate(request(), pick)).protocol, '', 'never a protocol when none was offered');
  t.same(seen.length, 1, 'hook not called without offers');
  const notOffered = await rejection(negotiate(request(offered), { handleProtocols: () => 'other' }));
  t.equal(notOffered.status, 500, 'choosing an unoffered protocol is a server error, never sent');
  t.ok(notOffered instanceof HookFailure);
  t.equal((await rejection(negotiate(request({ 'sec-websocket-protocol': ['a b'] }), {}))).status, 400, 'not a token');
  t.equal((await rejection(negotiate(request({ 'sec-websocket-protocol': ['a, a'] }), {}))).status, 400, 'duplicate');
});

t.test('extensions', async (t) => {
  const deflate = { 'sec-websocket-extensions': ['x-unknown; a=1, permessage-deflate; client_max_window_bits'] };
  const on = await negotiate(request(deflate), { perMessageDeflate: true });
  t.match(on.extensions, /^permessage-deflate/);
  t.ok(on.deflate);
  const off = await negotiate(request(deflate), { perMessageDeflate: false });
  t.equal(off.extensions, '', 'declined when switched off');
  t.equal(off.deflate, null);
  t.equal((await negotiate(request({ 'sec-websocket-extensions': ['x-unknown'] }), { perMessageDeflate: true })).extensions, '', 'unknown extensions ignored');
  t.equal((await rejection(negotiate(request({ 'sec-websocket-extensions': ['permessage-deflate; ='] }), {}))).status, 400, 'bad syntax');
});

t.test('origin allow-list (RFC 6455 §10.2)', async (t) => {
  const options = { allowedOrigins: ['https://app.example.com'] };
  t.ok(await negotiate(request({ origin: ['https://APP.example.com'] }), options), 'case-insensitive match');
  t.ok(await negotiate(request(), options), 'no Origin: not a browser');
  t.equal((await rejection(negotiate(request({ origin: ['https://evil.example'] }), options))).status, 403);
  const strict = { allowedOrigins: (origin: string | undefined) => origin === 'https://a.example' };
  t.equal((await rejection(negotiate(request(), strict))).status, 403, 'a predicate can refuse requests without Origin');
});

t.test('authenticate: cookies, bearer tokens, basic auth, custom answers', async (t) => {
  const auth: NegotiationOptions['authenticate'] = async (req) => {
    await new Promise((resolve) => setImmediate(resolve));
    const cookie = req.header('cookie') ?? '';
    if (/(^|; )session=good(;|$)/.test(cookie)) return { user: { name: 'cookie-user' } };
    const authorization = req.header('authorization') ?? '';
    if (authorization === 'Bearer token-1') return { user: 'bearer-user' };
    if (authorization.startsWith('Basic ')) {
      const [name, password] = Buffer.from(authorization.slice(6), 'base64').toString().split(':');
      if (password === 'secret') return { user: name };
      return rejectHandshake(401, 'bad password', { 'www-authenticate': 'Basic realm="chat"' });
    }
    if (req.header('x-banned')) throw rejectHandshake(403, 'banned');
    if (req.header('x-crash')) throw new Error('database down');
    return false;
  };
  t.same((await negotiate(request({ cookie: ['a=1; session=good'] }), { authenticate: auth })).user, { name: 'cookie-user' });
  t.equal((await negotiate(request({ authorization: ['Bearer token-1'] }), { authenticate: auth })).user, 'bearer-user');
  const basic = 'Basic ' + Buffer.from('ann:secret').toString('base64');
  t.equal((await negotiate(request({ authorization: [basic] }), { authenticate: auth })).user, 'ann');
  const wrong = await rejection(negotiate(request({ authorization: ['Basic ' + Buffer.from('ann:x').toString('base64')] }), { authenticate: auth }));
  t.equal(wrong.status, 401);
  t.same(wrong.headers, { 'www-authenticate': 'Basic realm="chat"' });
  t.equal(wrong.body, 'bad password');
  t.equal((await rejection(negotiate(request({ 'x-banned': ['1'] }), { authenticate: auth }))).status, 403, 'thrown rejection');
  const crash = await rejection(negotiate(request({ 'x-crash': ['1'] }), { authenticate: auth }));
  t.equal(crash.status, 500, 'a failing hook is a 500');
  t.equal((crash.cause as Error).message, 'database down', 'with the cause kept for the log');
  t.equal((await rejection(negotiate(request(), { authenticate: auth }))).status, 401, 'false means 401');
  t.equal((await negotiate(request(), { authenticate: () => true })).user, undefined);
});

t.test('the same negotiation serves HTTP/2 requests unchanged', async (t) => {
  const result = await negotiate(request({ 'sec-websocket-protocol': ['mqtt'] }, 'h2'), { handleProtocols: (p) => p[0] });
  t.equal(result.protocol, 'mqtt');
});

t.test('rejections refuse header injection', async (t) => {
  t.throws(() => rejectHandshake(401, 'x', { 'www-authenticate': 'a\r\nset-cookie: x=1' }));
  t.throws(() => rejectHandshake(200, 'x'), RangeError);
});
