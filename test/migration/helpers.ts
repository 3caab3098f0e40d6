// Shared pieces of the migration tests: `row()` names each test after its row
// in docs/migrating-from-ws.md ("<section>: <name>"), which guide.test.ts
// checks in both directions; the rest starts servers and waits for events.
import t, { type Test } from 'tap';
import {
  HandshakeError,
  WebSocket,
  WebSocketServer,
  type ClientOptions,
  type HandshakeRequest,
  type ServerOptions,
} from '../../src/index.js';

/** One test per supported row of the guide; `section` and `name` as the guide spells them. */
export function row(section: string, name: string, fn: (t: Test) => Promise<void>): void {
  t.test(`${section}: ${name}`, fn);
}

export interface Served {
  wss: WebSocketServer;
  url: string;
  /** The next session the server accepts, with its request. */
  nextConnection(): Promise<[WebSocket, HandshakeRequest]>;
}

/** A server on 127.0.0.1 (port 0), closed when the test ends. */
export async function serve(t: Test, options: ServerOptions = {}): Promise<Served> {
  const wss = new WebSocketServer({ noServer: true, ...options });
  const { port } = await wss.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => wss.close());
  return { wss, url: `ws://127.0.0.1:${port}`, nextConnection: () => nextConnection(wss) };
}

export function nextConnection(wss: WebSocketServer): Promise<[WebSocket, HandshakeRequest]> {
  return new Promise((resolve) => wss.once('connection', (ws, request) => resolve([ws, request])));
}

export function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
}

/** A client that has opened, terminated when the test ends. */
export async function connect(t: Test, url: string, protocols?: string | string[] | ClientOptions, options?: ClientOptions): Promise<WebSocket> {
  const ws = new WebSocket(url, protocols, options);
  t.teardown(() => ws.terminate());
  await opened(ws);
  return ws;
}

/** A client and the server's side of it. */
export async function pair(t: Test, served: Served, options?: ClientOptions): Promise<{ client: WebSocket; server: WebSocket; request: HandshakeRequest }> {
  const accepted = served.nextConnection();
  const client = await connect(t, served.url, options);
  const [server, request] = await accepted;
  return { client, server, request };
}

export function closed(ws: WebSocket): Promise<[code: number, reason: string]> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve([code, reason])));
}

export function nextMessage(ws: WebSocket): Promise<[data: unknown, isBinary: boolean]> {
  return new Promise((resolve) => ws.once('message', (data, isBinary) => resolve([data, isBinary])));
}

/** The error a client's failed handshake reports. */
export function handshakeFailure(ws: WebSocket): Promise<Error> {
  return new Promise((resolve, reject) => {
    ws.once('error', resolve);
    ws.once('open', () => reject(new Error('the handshake succeeded')));
  });
}

export { HandshakeError };
