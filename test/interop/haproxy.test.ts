// Interop matrix: haproxy 2.6 (Debian) as an HTTP/2 client of trident with its
// default configuration, over TLS and h2c, and as an HTTP/2 server in front of
// an HTTP/1.1 WebSocket backend. As a client haproxy forwards the HTTP/1.1
// client's Sec-WebSocket-Key and copies its Upgrade token as written into
// :protocol (autobahn's "WebSocket"): both must be accepted (RFC 8441 §5, RFC 9110 §7.8).
import t from 'tap';
import { certFiles } from '../helpers/interop/certs.js';
import { haproxy, pythonClient, pythonServer } from '../helpers/interop/peers.js';
import { clientCell, serverCell } from '../helpers/interop/run-cell.js';

const peer = { peer: 'haproxy', debianPackage: 'haproxy' } as const;
const DEFLATE_OFFER = JSON.stringify({ server_max_window_bits: 12, client_no_context_takeover: true });
const DEFLATE_AGREED = 'permessage-deflate; client_no_context_takeover; server_max_window_bits=12';

function serverOptions(hop: 'tls' | 'h2c'): string {
  return hop === 'tls' ? `ssl verify required ca-file ${certFiles().caFile} sni str(localhost) alpn h2` : 'proto h2';
}

for (const hop of ['tls', 'h2c'] as const) {
  void serverCell(t, { ...peer, direction: 'client->trident', transport: 'h2', deflate: 'params', variant: `${hop},client=python-websockets` }, {
    perMessageDeflate: true,
    listen: hop,
    startPeer: async (t, port) => {
      const front = await haproxy(t, 'h2-client.cfg', { TRIDENT_PORT: String(port), SERVER_OPTIONS: serverOptions(hop) });
      return pythonClient(t, 'websockets_agent.py', `ws://127.0.0.1:${front}/echo`, DEFLATE_OFFER);
    },
    expect: { transport: 'h2', extensions: DEFLATE_AGREED },
    checkRequest: (t, request) => {
      t.equal(request.method, 'CONNECT', 'RFC 8441 extended CONNECT reached trident');
      t.equal(request.headerValues('sec-websocket-key').length, 1, "haproxy forwarded the client's Sec-WebSocket-Key (ignored)");
    },
  });
}

void serverCell(t, { ...peer, direction: 'client->trident', transport: 'h2', deflate: 'off', variant: 'tls,client=python-autobahn' }, {
  perMessageDeflate: true,
  listen: 'tls',
  startPeer: async (t, port) => {
    const front = await haproxy(t, 'h2-client.cfg', { TRIDENT_PORT: String(port), SERVER_OPTIONS: serverOptions('tls') });
    return pythonClient(t, 'autobahn_agent.py', `ws://127.0.0.1:${front}/echo`, 'off');
  },
  expect: { transport: 'h2', extensions: '' },
  checkRequest: (t, request) => t.equal(request.connectProtocol, 'WebSocket', 'haproxy copied "Upgrade: WebSocket" into :protocol'),
});

for (const transport of ['h2', 'auto'] as const) {
  void clientCell(t, { ...peer, direction: 'trident->server', transport: 'h2', deflate: 'params', variant: `client-transport=${transport},backend=python-websockets` }, {
    startPeer: async (t) => {
      const backend = await pythonServer(t, 'on');
      const front = await haproxy(t, 'h2-server.cfg', { BACKEND_PORT: String(backend.port), CERT_PEM: certFiles().combinedFile });
      return { url: `wss://localhost:${front}/echo`, agent: backend.agent };
    },
    client: { transport, perMessageDeflate: { serverMaxWindowBits: 11 } },
    expect: { transport: 'h2', extensions: 'permessage-deflate; server_max_window_bits=11; client_max_window_bits=12' },
  });
}
