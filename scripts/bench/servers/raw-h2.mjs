// The HTTP/2 limit: node:http2 answers every extended CONNECT with 200 and
// echoes the stream (`stream.pipe(stream)`), with the same SETTINGS and
// windows as trident's own HTTP/2 listener (see src/server/http-servers.ts).
import http2 from 'node:http2';
import { HOST, serveControl, tlsOptions } from './common.mjs';

let open = 0;
const server = http2.createSecureServer({
  ...tlsOptions(),
  settings: { enableConnectProtocol: true, maxConcurrentStreams: 1000, initialWindowSize: 1024 * 1024 },
});
server.on('session', (session) => {
  session.on('error', () => {});
  session.setLocalWindowSize(16 * 1024 * 1024);
});
server.on('stream', (stream, headers) => {
  stream.on('error', () => {});
  if (headers[':method'] !== 'CONNECT' || headers[':protocol'] !== 'websocket') {
    stream.respond({ ':status': 400 });
    stream.end();
    return;
  }
  open++;
  stream.once('close', () => open--);
  stream.respond({ ':status': 200 });
  stream.pipe(stream);
});
server.listen(0, HOST, () => serveControl({ port: server.address().port, connections: () => open, info: { impl: 'raw node:http2 stream echo' } }));
