// The fan-out server under test (issue 13): subscribers connect to /, one
// publisher to /publish; every message of the publisher goes to every
// subscriber. trident: the broker (framed once, the same bytes queued to
// every member); ws: the usual `clients.forEach(send)` loop.
import { WebSocketServer as WsServer } from 'ws';
import { WebSocketServer as TridentServer } from '../../../dist/index.js';
import { HOST, config, serveControl } from './common.mjs';

let port;
let connections;
if (config.impl === 'ws') {
  const wss = new WsServer({ host: HOST, port: 0, perMessageDeflate: false });
  await new Promise((resolve) => wss.once('listening', resolve));
  wss.on('connection', (ws, req) => {
    if (req.url !== '/publish') return;
    ws.on('message', (data, isBinary) => {
      wss.clients.forEach((client) => {
        if (client !== ws) client.send(data, { binary: isBinary });
      });
    });
  });
  port = wss.address().port;
  connections = () => wss.clients.size;
} else {
  // The window of the load generator keeps every member far below the slow-member limit.
  const wss = new TridentServer({ noServer: true });
  wss.on('connection', (ws, request) => {
    if (request.pathname === '/publish') ws.on('message', (data, isBinary) => wss.pubsub.publish('room', data, { binary: isBinary }));
    else wss.pubsub.join(ws, 'room');
  });
  ({ port } = await wss.listen({ host: HOST, port: 0 }));
  connections = () => wss.clients.size;
}
serveControl({ port, connections: () => connections(), info: { impl: config.impl ?? 'trident' } });
