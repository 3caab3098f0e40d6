// trident-ws echo server under test. Config: { tls, deflate, h3, metrics } (see common.mjs).
// With tls, one port serves HTTP/2 (RFC 8441) and HTTP/1.1 (ALPN), as `listen({ tls })` does;
// with h3 too, HTTP/3 (RFC 9220) on the same port number over UDP (`listen({ tls, http3 })`;
// h3 is true or QUIC transport options).
import { WebSocketServer } from '../../../dist/index.js';
import { HOST, config, serveControl, tlsOptions } from './common.mjs';

const perMessageDeflate =
  config.deflate === 'no-context-takeover' ? { serverNoContextTakeover: true, clientNoContextTakeover: true } : Boolean(config.deflate);
const wss = new WebSocketServer({ noServer: true, perMessageDeflate, metrics: Boolean(config.metrics) });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
wss.on('error', (error) => {
  console.error('server error', error);
  process.exit(1);
});
const address = await wss.listen({ port: 0, host: HOST, tls: config.tls ? tlsOptions() : undefined, ...(config.h3 ? { http3: config.h3 } : {}) });
serveControl({
  port: address.port,
  connections: () => wss.clients.size,
  info: { impl: 'trident-ws', deflate: Boolean(config.deflate), tls: Boolean(config.tls), h3: Boolean(config.h3) },
});
