// `ws` 8 echo server under test, with its native helpers (bufferutil; on Node >= 18.14
// ws validates UTF-8 with buffer.isUtf8 and no longer loads utf-8-validate).
// Config: { tls, deflate }. permessage-deflate: ws's defaults (`perMessageDeflate: true`).
import { createRequire } from 'node:module';
import https from 'node:https';
import { WebSocketServer } from 'ws';
import { HOST, config, serveControl, tlsOptions } from './common.mjs';

const require = createRequire(import.meta.url);
const perMessageDeflate =
  config.deflate === 'no-context-takeover' ? { serverNoContextTakeover: true, clientNoContextTakeover: true } : Boolean(config.deflate);
let wss;
let port;
if (config.tls) {
  const server = https.createServer(tlsOptions());
  wss = new WebSocketServer({ server, perMessageDeflate });
  await new Promise((resolve) => server.listen(0, HOST, resolve));
  port = server.address().port;
} else {
  wss = new WebSocketServer({ port: 0, host: HOST, perMessageDeflate });
  await new Promise((resolve) => wss.once('listening', resolve));
  port = wss.address().port;
}
wss.on('connection', (ws) => {
  ws.on('error', () => {});
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
const loaded = Object.keys(require.cache);
serveControl({
  port,
  connections: () => wss.clients.size,
  info: {
    impl: `ws ${require('ws/package.json').version}`,
    deflate: Boolean(config.deflate),
    tls: Boolean(config.tls),
    nativeHelpers: {
      bufferutil: loaded.some((path) => path.endsWith('bufferutil.node')),
      utf8validate: loaded.some((path) => path.endsWith('utf-8-validate.node')) ? 'utf-8-validate' : 'buffer.isUtf8',
    },
  },
});
