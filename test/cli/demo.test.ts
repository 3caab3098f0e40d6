/**
 * The binary's live-demo seams, without a browser: `/chat/<room>?welcome`
 * sends a first JSON message naming the transport over every transport, a
 * plain `/chat/<room>` client gets only the room's messages, and `/sessions`
 * counts the open sessions per transport.
 */
import { once } from 'node:events';
import https from 'node:https';
import t from 'tap';
import { WebSocket } from '../../src/index.js';
import { startBinary } from '../helpers/binary.js';

const TIMEOUT = 5000;

function getJson(url: string, ca: string): Promise<{ status: number; type: string | undefined; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, agent: false, timeout: TIMEOUT }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body: JSON.parse(text) }));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: GET ${url}`)));
    req.on('error', reject);
  });
}

/** Opens a client that records every message from the start. */
async function join(url: string, transport: 'h1' | 'h2' | 'h3', ca: string): Promise<{ ws: WebSocket; inbox: string[]; next: () => Promise<string> }> {
  const ws = new WebSocket(url, { transport, ca, handshakeTimeout: TIMEOUT });
  const inbox: string[] = [];
  let read = 0;
  ws.on('message', (data) => {
    inbox.push(String(data));
    ws.emit('recorded');
  });
  await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
  const next = async (): Promise<string> => {
    while (inbox.length <= read) await once(ws, 'recorded');
    return inbox[read++]!;
  };
  return { ws, inbox, next };
}

t.test('?welcome names the transport first; plain room members see only chat; /sessions counts per transport', async (t) => {
  const bin = await startBinary();
  t.teardown(() => bin.kill());
  const url = (path: string, scheme = 'wss'): string => `${scheme}://localhost:${bin.tlsPort}${path}`;

  const plain = await join(url('/chat/demo'), 'h1', bin.caPem);
  const welcomed = [];
  for (const [i, transport] of (['h1', 'h2', 'h3'] as const).entries()) {
    const client = await join(url('/chat/demo?welcome'), transport, bin.caPem);
    const first = JSON.parse(await client.next()) as { type: string; transport: string; sessions: Record<string, number> };
    t.equal(first.type, 'welcome');
    t.equal(first.transport, client.ws.transport, `${transport}: the welcome names ${client.ws.transport}`);
    // This session included: the plain member and the first welcomed one are over HTTP/1.1.
    const expected = { 'http/1.1': 2, h2: i >= 1 ? 1 : 0, h3: i >= 2 ? 1 : 0 };
    t.same(first.sessions, expected, `${transport}: session counts in the welcome`);
    welcomed.push(client);
  }

  const sessions = await getJson(url('/sessions', 'https'), bin.caPem);
  t.equal(sessions.status, 200);
  t.match(sessions.type, /^application\/json/);
  t.same(sessions.body, { 'http/1.1': 2, h2: 1, h3: 1 }, '/sessions: two over HTTP/1.1, one each over HTTP/2 and HTTP/3');

  welcomed[2]!.ws.send('hello room');
  for (const client of [plain, ...welcomed]) t.equal(await client.next(), 'hello room', 'the room message reaches everyone');
  t.same(plain.inbox, ['hello room'], 'the member without ?welcome got only the chat message');

  for (const { ws } of [plain, ...welcomed]) {
    const closed = once(ws, 'close');
    ws.close(1000);
    await closed;
  }
  const after = await getJson(url('/sessions', 'https'), bin.caPem);
  t.same(after.body, { 'http/1.1': 0, h2: 0, h3: 0 }, '/sessions: none open after the closes');
  t.equal(await bin.stop(), 0);
});
