// The extended-CONNECT rules shared by HTTP/2 (RFC 8441) and HTTP/3 (RFC 9220).
import t from 'tap';
import { isWebSocketProtocol, validateExtendedConnect } from '../../src/handshake/extended-connect.js';
import { HandshakeRejection } from '../../src/handshake/rejection.js';
import { HandshakeRequest } from '../../src/handshake/request.js';

function request(connectProtocol: string | undefined, headers: Record<string, string[]> = {}, method = 'CONNECT'): HandshakeRequest {
  return new HandshakeRequest({
    transport: 'h2',
    method,
    connectProtocol,
    scheme: 'https',
    authority: 'example.com',
    url: '/ws',
    httpVersion: '2.0',
    headers: { 'sec-websocket-version': ['13'], ...headers },
  });
}

function status(r: HandshakeRequest): number | 'accepted' {
  try {
    validateExtendedConnect(r);
    return 'accepted';
  } catch (error) {
    if (error instanceof HandshakeRejection) return error.status;
    throw error;
  }
}

t.test(':protocol names WebSocket in any case (RFC 9110 §7.8)', async (t) => {
  for (const name of ['websocket', 'WebSocket', 'WEBSOCKET']) {
    t.equal(isWebSocketProtocol(name), true, name);
    t.equal(status(request(name)), 'accepted', `${name} accepted`);
  }
  for (const name of [undefined, '', 'websockets', 'webtransport', 'websocket ']) t.equal(isWebSocketProtocol(name), false, JSON.stringify(name));
  t.equal(status(request('webtransport')), 501, 'another protocol: 501');
  t.equal(status(request(undefined)), 405, 'plain CONNECT: 405');
  t.equal(status(request('websocket', {}, 'GET')), 400, ':protocol on GET: 400');
});

t.test('Sec-WebSocket-Key is ignored, connection-specific fields are not (RFC 8441 §5, RFC 9113 §8.2.2)', async (t) => {
  t.equal(status(request('websocket', { 'sec-websocket-key': ['dGhlIHNhbXBsZSBub25jZQ=='] })), 'accepted', 'a forwarded key is accepted');
  t.equal(status(request('websocket', { connection: ['Upgrade'] })), 400, 'Connection: 400');
  t.equal(status(request('websocket', { upgrade: ['websocket'] })), 400, 'Upgrade: 400');
});
