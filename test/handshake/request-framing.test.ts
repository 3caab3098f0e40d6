// Issue 11 item 12: requests whose framing contradicts a WebSocket handshake.
import t from 'tap';
import { rejectEndedTunnel, rejectHostAuthorityMismatch, rejectUpgradeWithContent } from '../../src/handshake/request-framing.js';
import { HandshakeRejection } from '../../src/handshake/rejection.js';
import { HandshakeRequest } from '../../src/handshake/request.js';

function request(headers: Record<string, string[]>, authority = 'example.com', scheme = 'https'): HandshakeRequest {
  return new HandshakeRequest({ transport: 'h2', method: 'CONNECT', connectProtocol: 'websocket', scheme, authority, url: '/', httpVersion: '2.0', headers });
}

function statusOf(fn: () => void): number | null {
  try {
    fn();
    return null;
  } catch (error) {
    return error instanceof HandshakeRejection ? error.status : -1;
  }
}

t.test('HTTP/1.1 upgrade with content is refused (RFC 6455 §4.1, RFC 9112 §6.3)', async (t) => {
  t.equal(statusOf(() => rejectUpgradeWithContent(request({}))), null, 'no framing fields');
  t.equal(statusOf(() => rejectUpgradeWithContent(request({ 'content-length': ['0'] }))), null, 'Content-Length: 0');
  t.equal(statusOf(() => rejectUpgradeWithContent(request({ 'content-length': ['5'] }))), 400, 'Content-Length: 5');
  t.equal(statusOf(() => rejectUpgradeWithContent(request({ 'content-length': ['0', '3'] }))), 400, 'a second, non-zero Content-Length');
  t.equal(statusOf(() => rejectUpgradeWithContent(request({ 'transfer-encoding': ['chunked'] }))), 400, 'Transfer-Encoding');
});

t.test('extended CONNECT with END_STREAM is refused (RFC 8441 §5, RFC 9113 §8.5)', async (t) => {
  t.equal(statusOf(() => rejectEndedTunnel(false)), null);
  t.equal(statusOf(() => rejectEndedTunnel(true)), 400);
});

t.test('Host must name the :authority (RFC 9113 §8.3.1), after scheme-based normalization', async (t) => {
  t.equal(statusOf(() => rejectHostAuthorityMismatch(request({}))), null, 'no Host');
  t.equal(statusOf(() => rejectHostAuthorityMismatch(request({ host: ['example.com'] }))), null, 'same');
  t.equal(statusOf(() => rejectHostAuthorityMismatch(request({ host: ['EXAMPLE.com:443'] }))), null, 'case and default port');
  t.equal(statusOf(() => rejectHostAuthorityMismatch(request({ host: ['example.com:80'] }, 'example.com', 'http'))), null, 'http default port');
  t.equal(statusOf(() => rejectHostAuthorityMismatch(request({ host: ['example.com:8443'] }))), 400, 'other port');
  t.equal(statusOf(() => rejectHostAuthorityMismatch(request({ host: ['evil.example'] }))), 400, 'other host');
  t.equal(statusOf(() => rejectHostAuthorityMismatch(request({ host: ['example.com', 'example.com'] }))), 400, 'two Host fields');
  t.equal(statusOf(() => rejectHostAuthorityMismatch(request({ host: ['[::1]:443'] }, '[::1]'))), null, 'IPv6 literal');
});
