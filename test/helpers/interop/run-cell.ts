/**
 * The two shapes of a matrix cell. In both, trident drives an echo agent
 * (test/interop/peers/python/agent_protocol.md) over two connections: the
 * first gets every check (echo-checks.ts) and is closed by the peer, the
 * second is closed by trident.
 */
import { once } from 'node:events';
import type { Test } from 'tap';
import { WebSocket, WebSocketServer, type ClientOptions, type DeflateOptions, type HandshakeRequest, type TransportName } from '../../../src/index.js';
import { type Cell, cellName, debianVersion } from './cell.js';
import { certFiles } from './certs.js';
import { checkCloseFromTrident, checkEcho, withTimeout } from './echo-checks.js';
import type { PeerProcess } from './peer-process.js';

export interface Expected {
  /** What `ws.transport` must say on trident's side (a proxy hop must really be HTTP/2 extended CONNECT). */
  transport: TransportName;
  /** The Sec-WebSocket-Extensions value trident's side agreed to, '' for none. */
  extensions: string;
}

/** Fails the cell (never skips it) when its peer's package is not installed. */
function peerInstalled(t: Test, cell: Cell): boolean {
  if (debianVersion(cell.debianPackage) !== null) return true;
  t.fail(`${cell.debianPackage} is not installed: .ci/run installs it with apt-get`);
  return false;
}

export interface ServerCell {
  perMessageDeflate?: boolean | DeflateOptions;
  /** How trident listens: TLS (h1 and h2 by ALPN), cleartext HTTP/1.1, or h2c. */
  listen: 'tls' | 'cleartext' | 'h2c';
  /** Starts the peer client (and any proxy in front of trident); returns the process printing the agent's lines. */
  startPeer(t: Test, port: number): Promise<PeerProcess>;
  expect: Expected;
  /** Extra checks on the first request as trident's server saw it. */
  checkRequest?: (t: Test, request: HandshakeRequest) => void;
}

/** The peer (possibly through a proxy) is the client, a trident server the driver. */
export function serverCell(t: Test, cell: Cell, o: ServerCell): Promise<unknown> {
  return t.test(cellName(cell), async (t) => {
    if (!peerInstalled(t, cell)) return;
    const wss = new WebSocketServer({ noServer: true, perMessageDeflate: o.perMessageDeflate ?? false });
    const waiting: Array<(ws: WebSocket) => void> = [];
    const arrived: WebSocket[] = [];
    const requests: HandshakeRequest[] = [];
    wss.on('connection', (ws: WebSocket, request: HandshakeRequest) => {
      requests.push(request);
      const next = waiting.shift();
      if (next) next(ws);
      else arrived.push(ws);
    });
    const nextConnection = (): Promise<WebSocket> =>
      withTimeout(
        new Promise<WebSocket>((resolve) => {
          const ready = arrived.shift();
          if (ready) resolve(ready);
          else waiting.push(resolve);
        }),
        'connection from the peer',
      );
    const { port } = await wss.listen({
      host: '127.0.0.1',
      port: 0,
      tls: o.listen === 'tls' ? certFiles().tls : undefined,
      h2c: o.listen === 'h2c',
    });
    t.teardown(() => wss.close());
    const peer = await o.startPeer(t, port);
    const first = await peer.unlessExited(nextConnection(), 'connecting');
    t.equal(first.transport, o.expect.transport, `the hop to trident is ${o.expect.transport}`);
    t.equal(first.extensions, o.expect.extensions, 'permessage-deflate as agreed');
    o.checkRequest?.(t, requests[0]);
    await checkEcho(t, first);
    await checkCloseFromTrident(t, await peer.unlessExited(nextConnection(), 'connecting again'), peer);
    t.equal(await peer.exited(), 0, 'the peer client exits cleanly');
  });
}

export interface ClientCell {
  /** Starts the peer server (and any proxy in front of it); `agent` prints the agent's lines. */
  startPeer(t: Test): Promise<{ url: string; agent: PeerProcess }>;
  client: ClientOptions;
  expect: Expected;
}

async function open(url: string, options: ClientOptions): Promise<WebSocket> {
  const ws = new WebSocket(url, { ca: certFiles().ca, http2IdleTimeout: 50, ...options });
  await withTimeout(once(ws, 'open'), 'open');
  return ws;
}

/** A trident client is the driver, the peer (possibly behind a proxy) the server. */
export function clientCell(t: Test, cell: Cell, o: ClientCell): Promise<unknown> {
  return t.test(cellName(cell), async (t) => {
    if (!peerInstalled(t, cell)) return;
    const { url, agent } = await o.startPeer(t);
    const first = await open(url, o.client);
    t.equal(first.transport, o.expect.transport, `trident's client used ${o.expect.transport}`);
    t.equal(first.extensions, o.expect.extensions, 'permessage-deflate as agreed');
    await checkEcho(t, first);
    await checkCloseFromTrident(t, await open(url, o.client), agent);
  });
}
