// The client's `transport` option speaks the vocabulary `ws.transport`
// reports (ALPN tokens, RFC 7301 §6), with 'h1' kept as an alias.
import t from 'tap';
import { WebSocket, WebSocketServer } from '../../src/index.js';
import { makeTls } from '../transports/http2/tls.js';

const { tls, ca } = makeTls();

function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
}

t.test("'http/1.1' and 'h1' both choose HTTP/1.1 Upgrade on a server that offers HTTP/2 too", async (t) => {
  const wss = new WebSocketServer({ noServer: true });
  const { port } = await wss.listen({ host: '127.0.0.1', port: 0, tls });
  t.teardown(() => wss.close());
  const seen: string[] = [];
  wss.on('connection', (_ws, request) => seen.push(request.transport));
  for (const transport of ['http/1.1', 'h1', 'auto'] as const) {
    const client = new WebSocket(`wss://localhost:${port}/`, { ca, transport });
    await opened(client);
    t.equal(client.transport, transport === 'auto' ? 'h2' : 'http/1.1', `transport: '${transport}'`);
    client.terminate();
  }
  t.same(seen, ['http/1.1', 'http/1.1', 'h2'], 'as the server saw them');
});

t.test('an unknown transport name is a TypeError', async (t) => {
  t.throws(() => new WebSocket('ws://127.0.0.1:1/', { transport: 'http/2' as 'h2' }), TypeError);
});
