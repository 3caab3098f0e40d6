// RFC 8307: well-known URIs exist for ws and wss. `/.well-known/...` is an
// ordinary path to the client (no dot-segment removal applies to it) and to
// the server's routing, on every transport.
import { once } from 'node:events';
import t from 'tap';
import { WebSocket, WebSocketServer, type HandshakeRequest } from '../../src/index.js';
import { makeTls } from '../transports/http2/tls.js';

const { tls, ca } = makeTls();
const WELL_KNOWN = '/.well-known/trident-echo';

t.test('ws(s)://host/.well-known/... routes like any other path, on h1, h2 and h3', async (t) => {
  const wss = new WebSocketServer({ noServer: true, path: WELL_KNOWN });
  const seen: string[] = [];
  wss.on('connection', (ws: WebSocket, request: HandshakeRequest) => {
    seen.push(`${request.transport} ${request.url}`);
    ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
  });
  const { port } = await wss.listen({ host: '127.0.0.1', port: 0, tls, http3: true });
  t.teardown(() => wss.close());
  for (const transport of ['h1', 'h2', 'h3'] as const) {
    const client = new WebSocket(`wss://localhost:${port}${WELL_KNOWN}?q=1`, { ca, transport, http2IdleTimeout: 50, http3IdleTimeout: 50 });
    await once(client, 'open');
    t.equal(client.url, `wss://localhost:${port}${WELL_KNOWN}?q=1`, `${transport}: the client keeps the well-known URL`);
    client.send(`via ${transport}`);
    const [data] = (await once(client, 'message')) as [Buffer];
    t.equal(data.toString(), `via ${transport}`, `${transport}: echo`);
    client.close(1000);
    await once(client, 'close');
  }
  t.same(seen, ['http/1.1', 'h2', 'h3'].map((name) => `${name} ${WELL_KNOWN}?q=1`), 'the server saw the well-known path on each transport');
  // A sibling well-known name is not this endpoint: 404 like any other path.
  // (Over HTTP/1.1: on Node 24 a refused HTTP/2 client stream whose body is
  // never read stays open and holds the server's shutdown, a client bug reported apart.)
  const other = new WebSocket(`wss://localhost:${port}/.well-known/other`, { ca, transport: 'h1' });
  const [error] = (await once(other, 'error')) as [Error];
  t.equal(error.message, 'unexpected server response: 404', 'another well-known path is refused with 404');
  t.equal(seen.length, 3, 'and never reached the connection handler');
});
