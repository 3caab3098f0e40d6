// Interop matrix: nghttpx (Debian's nghttp2-proxy) as an HTTP/2 client and as
// an HTTP/2 server. As a client it turns HTTP/1.1 WebSocket clients (python
// websockets) into RFC 8441 extended CONNECTs to trident, over TLS and h2c;
// trident's server must see an HTTP/2 stream (ws.transport 'h2'). As a server
// its frontend accepts RFC 8441 from trident's client (transport 'h2', and
// 'auto', which must pick HTTP/2) and forwards to an HTTP/1.1 WebSocket backend.
import t from 'tap';
import { certFiles } from '../helpers/interop/certs.js';
import { nghttpx, pythonClient, pythonServer } from '../helpers/interop/peers.js';
import { clientCell, serverCell } from '../helpers/interop/run-cell.js';

const peer = { peer: 'nghttpx', debianPackage: 'nghttp2-proxy' } as const;
const DEFLATE_OFFER = JSON.stringify({ client_max_window_bits: 10, server_no_context_takeover: true });
const DEFLATE_AGREED = 'permessage-deflate; server_no_context_takeover; client_max_window_bits=10';

for (const hop of ['tls', 'h2c'] as const) {
  void serverCell(t, { ...peer, direction: 'client->trident', transport: 'h2', deflate: 'params', variant: `${hop},client=python-websockets` }, {
    perMessageDeflate: true,
    listen: hop,
    startPeer: async (t, port) => {
      const backendTls = hop === 'tls' ? `;tls;sni=localhost` : '';
      const front = await nghttpx(t, ';no-tls', `127.0.0.1,${port};;proto=h2${backendTls}`, [`--cacert=${certFiles().caFile}`]);
      return pythonClient(t, 'websockets_agent.py', `ws://127.0.0.1:${front}/echo`, DEFLATE_OFFER);
    },
    expect: { transport: 'h2', extensions: DEFLATE_AGREED },
    checkRequest: (t, request) => t.equal(request.method, 'CONNECT', 'RFC 8441 extended CONNECT reached trident'),
  });
}

for (const transport of ['h2', 'auto'] as const) {
  void clientCell(t, { ...peer, direction: 'trident->server', transport: 'h2', deflate: 'params', variant: `client-transport=${transport},backend=python-websockets` }, {
    startPeer: async (t) => {
      const backend = await pythonServer(t, 'on');
      const { keyFile, certFile } = certFiles();
      const front = await nghttpx(t, '', `127.0.0.1,${backend.port}`, [keyFile, certFile]);
      return { url: `wss://localhost:${front}/echo`, agent: backend.agent };
    },
    client: { transport, perMessageDeflate: { serverMaxWindowBits: 11 } },
    expect: { transport: 'h2', extensions: 'permessage-deflate; server_max_window_bits=11; client_max_window_bits=12' },
  });
}
