import t from 'tap';
import { computeAcceptKey, isValidClientKey } from '../../src/handshake/accept-key.js';
import { validateHttp1Upgrade } from '../../src/handshake/http1-validation.js';
import { HandshakeRejection } from '../../src/handshake/rejection.js';
import { HandshakeRequest } from '../../src/handshake/request.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

function request(overrides: Partial<{ method: string; httpVersion: string }> = {}, headers: Record<string, string | string[] | undefined> = {}): HandshakeRequest {
  return new HandshakeRequest({
    transport: 'http/1.1',
    method: overrides.method ?? 'GET',
    scheme: 'http',
    authority: 'server.example.com',
    url: '/chat',
    httpVersion: overrides.httpVersion ?? '1.1',
    headers: {
      host: ['server.example.com'],
      upgrade: ['websocket'],
      connection: ['Upgrade'],
      'sec-websocket-key': [KEY],
      'sec-websocket-version': ['13'],
      ...headers,
    },
  });
}

function rejectionOf(fn: () => unknown): HandshakeRejection | null {
  try {
    fn();
  } catch (error) {
    return error instanceof HandshakeRejection ? error : null;
  }
  return null;
}

t.test('RFC 6455 §1.3 accept key example', async (t) => {
  t.equal(computeAcceptKey(KEY), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  t.ok(isValidClientKey(KEY));
  for (const bad of ['', 'abc', 'dGhlIHNhbXBsZSBub25jZQ=', 'dGhlIHNhbXBsZSBub25jZQ', 'dGhlIHNhbXBsZSBub25jZR==', Buffer.alloc(15).toString('base64'), Buffer.alloc(17).toString('base64')]) {
    t.notOk(isValidClientKey(bad), `"${bad}" is not a 16-byte key`);
  }
});

t.test('a correct request passes and yields the key', async (t) => {
  t.equal(validateHttp1Upgrade(request()), KEY);
  t.equal(validateHttp1Upgrade(request({}, { connection: ['keep-alive, Upgrade'], upgrade: ['WebSocket'] })), KEY, 'token lists, any case');
  t.equal(validateHttp1Upgrade(request({}, { connection: ['keep-alive', 'upgrade'] })), KEY, 'tokens on several lines');
  t.equal(validateHttp1Upgrade(request({ httpVersion: '2.0' })), KEY, 'HTTP/1.1 or later');
});

t.test('malformed requests are refused with precise statuses', async (t) => {
  const cases: Array<[string, HandshakeRequest, number]> = [
    ['POST', request({ method: 'POST' }), 405],
    ['HTTP/1.0', request({ httpVersion: '1.0' }), 400],
    ['no Host', request({}, { host: undefined }), 400],
    ['no Upgrade', request({}, { upgrade: undefined }), 400],
    ['Upgrade: h2c', request({}, { upgrade: ['h2c'] }), 400],
    ['no Connection upgrade', request({}, { connection: ['keep-alive'] }), 400],
    ['no key', request({}, { 'sec-websocket-key': undefined }), 400],
    ['two keys', request({}, { 'sec-websocket-key': [KEY, KEY] }), 400],
    ['short key', request({}, { 'sec-websocket-key': ['AAAA'] }), 400],
  ];
  for (const [name, req, status] of cases) {
    const rejection = rejectionOf(() => validateHttp1Upgrade(req));
    t.equal(rejection?.status, status, name);
    t.ok((rejection?.body ?? '').length > 0, `${name}: a reason`);
  }
  t.same(rejectionOf(() => validateHttp1Upgrade(request({ method: 'POST' })))?.headers, { allow: 'GET' });
});

t.test('request model', async (t) => {
  const r = new HandshakeRequest({
    transport: 'http/1.1',
    method: 'GET',
    scheme: 'https',
    authority: 'example.com:8443',
    url: '/chat/room?user=a&x=1',
    httpVersion: '1.1',
    headers: { cookie: ['a=1', 'b=2'], 'sec-websocket-protocol': ['x, y', 'z'] },
  });
  t.equal(r.header('cookie'), 'a=1; b=2', 'cookies join with "; "');
  t.equal(r.header('Sec-WebSocket-Protocol'), 'x, y, z', 'case-insensitive names');
  t.same(r.headerValues('sec-websocket-protocol'), ['x, y', 'z']);
  t.equal(r.header('absent'), undefined);
  t.equal(r.pathname, '/chat/room');
  t.equal(r.searchParams.get('user'), 'a');
  t.equal(r.websocketUrl, 'wss://example.com:8443/chat/room?user=a&x=1');
  t.same(r.headers, { cookie: 'a=1; b=2', 'sec-websocket-protocol': 'x, y, z' });
});
