/**
 * The fuzzing server facing requests and bytes that are not a well-behaved
 * driver: precise HTTP statuses on every transport, and a client frame
 * announcing 1 TiB fails its case on its header, without waiting for the payload.
 */
import http2 from 'node:http2';
import { mkdtempSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { ConformanceReport } from '../../../src/conformance/report-types.js';
import { startFuzzingServer } from '../../../src/conformance/serve/index.js';
import { connectH3, extendedConnectH3 } from '../../../src/conformance/targets/http3.js';
import { quicAvailable } from '../../../src/index.js';
import { certFiles } from '../../helpers/interop/certs.js';
import { rawVisit } from './raw-echo-client.js';

const outdir = mkdtempSync(join(tmpdir(), 'trident-serve-bad-'));
const certs = certFiles();
const server = await startFuzzingServer({ port: 0, tlsPort: 0, http3: quicAvailable(), cert: certs.tls.cert, key: certs.tls.key, outdir, cases: '1.1.*' });
t.teardown(() => server.close());

/** Sends a raw HTTP/1.1 request; resolves with the response head. */
function rawRequest(head: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(server.ports.plain!, '127.0.0.1');
    let response = '';
    socket.on('data', (chunk: Buffer) => (response += chunk.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => resolve(response));
    socket.write(head);
  });
}

const upgrade = (extra: string, version = '13'): string =>
  `GET /getCaseCount HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: ${version}\r\n${extra}\r\n`;

t.test('HTTP/1.1: 426 for a plain request or another version, 400 without a key', async (t) => {
  t.match(await rawRequest('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 426 Upgrade Required\r\n[^]*sec-websocket-version: 13\r\n/i);
  t.match(await rawRequest(upgrade('Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n', '8')), /^HTTP\/1\.1 426 Upgrade Required\r\n[^]*Sec-WebSocket-Version: 13\r\n/);
  t.match(await rawRequest(upgrade('')), /^HTTP\/1\.1 400 Bad Request\r\n/);
  t.match(await rawRequest(upgrade('Sec-WebSocket-Key: c2hvcnQ=\r\n')), /^HTTP\/1\.1 400 Bad Request\r\n/, 'a key that is not 16 bytes');
});

t.test('HTTP/1.1 on the TLS port: 426 for a plain request', async (t) => {
  const { request } = await import('node:https');
  const status = await new Promise<number | undefined>((resolve, reject) => {
    request({ host: '127.0.0.1', port: server.ports.tls, path: '/', servername: 'localhost', ca: certs.ca, agent: false }, (response) => {
      response.resume();
      resolve(response.statusCode);
    })
      .on('error', reject)
      .end();
  });
  t.equal(status, 426);
});

t.test('HTTP/2: 404 for a request, 501 for another :protocol, 400 for another version', async (t) => {
  const session = http2.connect(`https://localhost:${server.ports.tls}`, { ca: certs.ca });
  t.teardown(() => session.close());
  const status = (headers: http2.OutgoingHttpHeaders): Promise<number> =>
    new Promise((resolve) => {
      const stream = session.request(headers);
      stream.on('response', (h) => resolve(Number(h[':status'])));
      stream.on('error', () => {});
      stream.resume();
    });
  await new Promise((resolve) => session.once('remoteSettings', resolve));
  t.equal(await status({ ':path': '/getCaseCount' }), 404);
  const connectWith = (protocol: string, version: string): http2.OutgoingHttpHeaders => ({ ':method': 'CONNECT', ':protocol': protocol, ':path': '/getCaseCount', ':scheme': 'https', ':authority': 'localhost', 'sec-websocket-version': version });
  t.equal(await status(connectWith('chat', '13')), 501);
  t.equal(await status(connectWith('websocket', '8')), 400);
  t.equal(await status(connectWith('websocket', '13')), 200);
});

t.test('HTTP/3: 501 for another :protocol, 400 for another version', { skip: quicAvailable() ? false : 'no QUIC on this platform' }, async (t) => {
  const session = await connectH3('127.0.0.1', server.ports.h3!, { servername: 'localhost', ca: certs.ca });
  t.teardown(() => session.close());
  const status = async (overrides: Array<[string, string]>): Promise<string | undefined> => {
    const { stream, headers } = await extendedConnectH3(session, 'localhost', { path: '/getCaseCount' }, overrides);
    stream.cancel();
    return headers.find(([name]) => name === ':status')?.[1];
  };
  t.equal(await status([[':protocol', 'chat']]), '501');
  t.equal(await status([['sec-websocket-version', '8']]), '400');
  t.equal(await status([]), '200');
});

t.test('a frame announcing 1 TiB fails its case at once and the connection is dropped', async (t) => {
  const socket = connect(server.ports.plain!, '127.0.0.1');
  socket.on('error', () => {});
  let upgraded = false;
  socket.on('data', (chunk: Buffer) => {
    if (upgraded || !chunk.toString('latin1').startsWith('HTTP/1.1 101')) return;
    upgraded = true;
    // Masked binary frame, 64-bit length 2^40, then a little of its payload.
    socket.write(Buffer.concat([Buffer.from([0x82, 0xff, 0, 0, 0x01, 0, 0, 0, 0, 0, 1, 2, 3, 4]), Buffer.alloc(1024)]));
  });
  socket.write(`GET /runCase?case=1&agent=huge HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  await new Promise((resolve) => socket.on('close', resolve));
  await rawVisit(server.ports.plain!, '/updateReports?agent=huge');
  const report = JSON.parse(readFileSync(join(outdir, 'huge.json'), 'utf8')) as ConformanceReport;
  t.equal(report.results.length, 1);
  t.equal(report.results[0]!.verdict, 'FAILED');
  t.match(report.results[0]!.reason, 'announces 1099511627776 bytes');
  t.notOk(report.results[0]!.observed.some((line) => line.startsWith('deadline')), 'decided on the header, not at the deadline');
});

t.test('an unknown path, an unknown case and a target that is no URL get a close, and the server goes on', async (t) => {
  const noUrl = await rawRequest(upgrade('Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n').replace('GET /getCaseCount', 'GET http://['));
  t.match(noUrl, /^HTTP\/1\.1 101 Switching Protocols\r\n[^]*\r\n\r\n\x88\x02\x03\xe8$/, '101, then a close frame with 1000');
  t.equal(await rawVisit(server.ports.plain!, '/nothing-here'), undefined);
  t.equal(await rawVisit(server.ports.plain!, '/runCase?case=999&agent=x'), undefined);
  t.equal(await rawVisit(server.ports.plain!, '/getCaseCount'), '8');
});

t.test('clients resetting right after their upgrade request (refused or accepted) do not bring the server down', async (t) => {
  for (let i = 0; i < 40; i++) {
    await new Promise((resolve) => {
      const socket = connect(server.ports.plain!, '127.0.0.1');
      socket.on('error', () => {});
      socket.on('close', resolve);
      // Odd rounds are refused (426), even ones run case 1: both see a reset while the server writes.
      socket.write(upgrade('Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n', i % 2 ? '8' : '13').replace('/getCaseCount', '/runCase?case=1&agent=reset'), () => socket.resetAndDestroy());
    });
  }
  t.equal(await rawVisit(server.ports.plain!, '/getCaseCount'), '8', 'still serving');
});
