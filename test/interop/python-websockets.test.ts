// Interop matrix: python3-websockets (Debian) as client of trident's server
// over ws:// and wss://, with permessage-deflate off, on, and with its
// parameters; and as the server of trident's client. HTTP/1.1 only (the library has no HTTP/2).
import t from 'tap';
import type { Cell } from '../helpers/interop/cell.js';
import { clientCell, serverCell } from '../helpers/interop/run-cell.js';
import { pythonClient, pythonServer } from '../helpers/interop/peers.js';

const peer = { peer: 'python-websockets', debianPackage: 'python3-websockets', transport: 'h1' } as const;

const asClient: Array<{ cell: Pick<Cell, 'deflate' | 'variant'>; tls: boolean; offer: string; extensions: string }> = [
  { cell: { deflate: 'off', variant: 'ws' }, tls: false, offer: 'off', extensions: '' },
  { cell: { deflate: 'off', variant: 'wss' }, tls: true, offer: 'off', extensions: '' },
  { cell: { deflate: 'on', variant: 'ws' }, tls: false, offer: 'on', extensions: 'permessage-deflate' },
  { cell: { deflate: 'on', variant: 'wss' }, tls: true, offer: 'on', extensions: 'permessage-deflate' },
  {
    cell: { deflate: 'params', variant: 'ws,client_max_window_bits=9,server_max_window_bits=10' },
    tls: false,
    offer: JSON.stringify({ client_max_window_bits: 9, server_max_window_bits: 10 }),
    extensions: 'permessage-deflate; server_max_window_bits=10; client_max_window_bits=9',
  },
  {
    cell: { deflate: 'params', variant: 'ws,server_no_context_takeover,client_no_context_takeover' },
    tls: false,
    offer: JSON.stringify({ server_no_context_takeover: true, client_no_context_takeover: true }),
    extensions: 'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
  },
];

for (const { cell, tls, offer, extensions } of asClient) {
  void serverCell(t, { ...peer, ...cell, direction: 'client->trident' }, {
    perMessageDeflate: true,
    listen: tls ? 'tls' : 'cleartext',
    startPeer: async (t, port) => pythonClient(t, 'websockets_agent.py', `${tls ? 'wss' : 'ws'}://localhost:${port}/echo`, offer),
    expect: { transport: 'http/1.1', extensions },
  });
}

const DEFAULT_SERVER_DEFLATE = 'permessage-deflate; server_max_window_bits=12; client_max_window_bits=12';
const asServer: Array<{ cell: Pick<Cell, 'deflate' | 'variant'>; tls?: boolean; serverDeflate: string; client: boolean | object; extensions: string }> = [
  { cell: { deflate: 'off', variant: 'ws' }, serverDeflate: 'off', client: false, extensions: '' },
  // websockets' default server limits both windows to 12 bits (RFC 7692 §7.1.2: it may, unasked).
  { cell: { deflate: 'on', variant: 'ws' }, serverDeflate: 'on', client: true, extensions: DEFAULT_SERVER_DEFLATE },
  { cell: { deflate: 'on', variant: 'wss' }, tls: true, serverDeflate: 'on', client: true, extensions: DEFAULT_SERVER_DEFLATE },
  {
    cell: { deflate: 'params', variant: 'ws,server_max_window_bits=12,client_no_context_takeover' },
    serverDeflate: JSON.stringify({ client_max_window_bits: 11, server_no_context_takeover: true }),
    client: { serverMaxWindowBits: 12, clientNoContextTakeover: true },
    extensions: 'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=11',
  },
];

for (const { cell, tls = false, serverDeflate, client, extensions } of asServer) {
  void clientCell(t, { ...peer, ...cell, direction: 'trident->server' }, {
    startPeer: async (t) => {
      const { port, agent } = await pythonServer(t, serverDeflate, tls);
      return { url: `${tls ? 'wss' : 'ws'}://localhost:${port}/echo`, agent };
    },
    client: { transport: 'h1', perMessageDeflate: client },
    expect: { transport: 'http/1.1', extensions },
  });
}
