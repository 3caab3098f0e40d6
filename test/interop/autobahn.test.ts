// Interop matrix: python3-autobahn's asyncio client (Debian) against trident's
// server over HTTP/1.1. Autobahn writes "Upgrade: WebSocket" (RFC 6455 §4.2.1
// compares it case-insensitively) and makes rich permessage-deflate offers:
// every server window size 9..15, and no context takeover in both directions.
import t from 'tap';
import { serverCell } from '../helpers/interop/run-cell.js';
import { pythonClient } from '../helpers/interop/peers.js';

const peer = { peer: 'python-autobahn', debianPackage: 'python3-autobahn', transport: 'h1', direction: 'client->trident' } as const;
const URL_OF = (port: number): string => `ws://localhost:${port}/echo`;

void serverCell(t, { ...peer, deflate: 'off', variant: 'upgrade=WebSocket' }, {
  perMessageDeflate: true,
  listen: 'cleartext',
  startPeer: async (t, port) => pythonClient(t, 'autobahn_agent.py', URL_OF(port), 'off'),
  expect: { transport: 'http/1.1', extensions: '' },
  checkRequest: (t, request) => t.same(request.headerValues('upgrade'), ['WebSocket'], 'autobahn sent "Upgrade: WebSocket"'),
});

// RFC 7692 §7.1.2.1: the client asks for the server's window; the server
// answers with that size. Autobahn also offers client_no_context_takeover,
// which trident's server takes (§7.1.1.2: it saves the client's compressor memory).
for (let bits = 9; bits <= 15; bits++) {
  void serverCell(t, { ...peer, deflate: 'params', variant: `server_max_window_bits=${bits}` }, {
    perMessageDeflate: true,
    listen: 'cleartext',
    startPeer: async (t, port) => pythonClient(t, 'autobahn_agent.py', URL_OF(port), JSON.stringify({ request_max_window_bits: bits })),
    expect: { transport: 'http/1.1', extensions: `permessage-deflate; client_no_context_takeover; server_max_window_bits=${bits}` },
  });
}

// RFC 7692 §7.1.1: the client asks for server_no_context_takeover and offers
// client_no_context_takeover, which a server configured for it answers.
void serverCell(t, { ...peer, deflate: 'params', variant: 'server_no_context_takeover,client_no_context_takeover' }, {
  perMessageDeflate: { clientNoContextTakeover: true },
  listen: 'cleartext',
  startPeer: async (t, port) =>
    pythonClient(t, 'autobahn_agent.py', URL_OF(port), JSON.stringify({ request_no_context_takeover: true, accept_no_context_takeover: true })),
  expect: { transport: 'http/1.1', extensions: 'permessage-deflate; server_no_context_takeover; client_no_context_takeover' },
});
