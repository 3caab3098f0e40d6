// Interop matrix: Go's gorilla/websocket (Debian's
// golang-github-gorilla-websocket-dev, built by the test) as client of
// trident's server and as server of trident's client, over HTTP/1.1, with and
// without compression. Gorilla's compression is fixed: permessage-deflate with
// no context takeover both ways, and it cannot limit its window.
import { once } from 'node:events';
import t, { type Test } from 'tap';
import { WebSocket } from '../../src/index.js';
import { cellName } from '../helpers/interop/cell.js';
import { certFiles } from '../helpers/interop/certs.js';
import { withTimeout } from '../helpers/interop/echo-checks.js';
import { goPeer } from '../helpers/interop/go-build.js';
import { startPeer } from '../helpers/interop/peer-process.js';
import { clientCell, serverCell } from '../helpers/interop/run-cell.js';

const peer = { peer: 'gorilla-websocket', debianPackage: 'golang-github-gorilla-websocket-dev', transport: 'h1' } as const;
const GORILLA_DEFLATE = 'permessage-deflate; server_no_context_takeover; client_no_context_takeover';

async function gorillaServer(t: Test, compress: boolean) {
  const agent = startPeer(t, await goPeer('gorilla'), ['server', ...(compress ? ['-compress'] : [])]);
  const [, port] = await agent.waitForLine(/^READY (\d+)$/);
  return { url: `ws://127.0.0.1:${port}/echo`, agent };
}

for (const { compress, tls } of [
  { compress: false, tls: false },
  { compress: true, tls: false },
  { compress: true, tls: true },
]) {
  void serverCell(t, { ...peer, direction: 'client->trident', deflate: compress ? 'on' : 'off', variant: tls ? 'wss' : 'ws' }, {
    perMessageDeflate: true,
    listen: tls ? 'tls' : 'cleartext',
    startPeer: async (t, port) =>
      // Go's flag package stops at the first non-flag argument: the URL comes last.
      startPeer(t, await goPeer('gorilla'), [
        'client',
        '-connections',
        '2',
        '-ca',
        certFiles().caFile,
        ...(compress ? ['-compress'] : []),
        `${tls ? 'wss' : 'ws'}://localhost:${port}/echo`,
      ]),
    expect: { transport: 'http/1.1', extensions: compress ? GORILLA_DEFLATE : '' },
  });
}

for (const compress of [false, true]) {
  void clientCell(t, { ...peer, direction: 'trident->server', deflate: compress ? 'on' : 'off', variant: 'ws' }, {
    startPeer: (t) => gorillaServer(t, compress),
    client: { transport: 'h1', perMessageDeflate: compress },
    expect: { transport: 'http/1.1', extensions: compress ? GORILLA_DEFLATE : '' },
  });
}

// Peer deviation (docs/interop.md), kept out of the pass count: gorilla's
// server accepts an offer that requests server_max_window_bits without that
// parameter in its answer, while RFC 7692 §7.1.2.1 says a server that does not
// support it declines the offer. Trident's client must then fail the WebSocket
// connection (§7.1.2.1, RFC 6455 §9.1) instead of compressing with a window it did not get.
void t.test(
  cellName({ ...peer, direction: 'trident->server', deflate: 'params', variant: 'server_max_window_bits=10', deviation: 'RFC7692-7.1.2.1' }),
  async (t) => {
    const { url } = await gorillaServer(t, true);
    const ws = new WebSocket(url, { transport: 'h1', perMessageDeflate: { serverMaxWindowBits: 10 } });
    const [error] = (await withTimeout(once(ws, 'error'), 'handshake failure')) as [Error];
    t.match(error.message, /server_max_window_bits/, `trident's client fails the handshake: ${error.message}`);
    t.equal(ws.readyState, WebSocket.CLOSED, 'no WebSocket was opened');
  },
);
