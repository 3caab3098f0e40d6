// Interop with the `ws` package, an independent implementation: `ws` as the
// client of our server, and as the server of our client, with and without
// permessage-deflate, over ws:// and wss://.
import { on, once } from 'node:events';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import WS, { WebSocketServer as WSServer } from 'ws';
import { WebSocket, WebSocketServer } from '../../src/index.js';

const certDir = mkdtempSync(join(tmpdir(), 'trident-certs-'));
execFileSync('sh', ['scripts/gen-certs.sh', certDir]);
const tls = { cert: readFileSync(join(certDir, 'server.crt')), key: readFileSync(join(certDir, 'server.key')) };
const ca = readFileSync(join(certDir, 'ca.crt'));

const payloads: Array<[string, string | Buffer]> = [
  ['empty text', ''],
  ['short text', 'hello'],
  ['unicode text', 'κόσμε 😀 \u{10ffff}'],
  ['binary 125', Buffer.alloc(125, 1)],
  ['binary 126', Buffer.alloc(126, 2)],
  ['binary 64 KiB', Buffer.from(Array.from({ length: 65536 }, (_, i) => i % 256))],
  ['text 200 KiB', 'abcdefghij'.repeat(20_000)],
  ['binary 3 MiB random', Buffer.from(Array.from({ length: 3 << 20 }, (_, i) => (i * 2654435761) >>> 24))],
];

async function trident(options: { perMessageDeflate: boolean; tls?: boolean }) {
  const server = new WebSocketServer({ noServer: true, perMessageDeflate: options.perMessageDeflate, handleProtocols: (offered) => offered.at(-1) });
  server.on('connection', (ws) => {
    ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
    ws.on('close', (code: number, reason: string) => server.emit('session-closed', code, reason));
  });
  const { port } = await server.listen({ host: '127.0.0.1', port: 0, tls: options.tls ? tls : undefined });
  return { server, url: `${options.tls ? 'wss' : 'ws'}://localhost:${port}/echo` };
}

async function echoAll(t: Test, send: (data: string | Buffer) => void, received: AsyncIterator<[Buffer, boolean]>): Promise<void> {
  for (const [name, payload] of payloads) {
    send(payload);
    const { value } = await received.next();
    const [data, isBinary] = value as [Buffer, boolean];
    t.equal(isBinary, typeof payload !== 'string', `${name}: type kept`);
    t.ok(Buffer.from(data).equals(Buffer.from(payload)), `${name}: bytes kept`);
  }
}

function messages(emitter: NodeJS.EventEmitter): AsyncIterator<[Buffer, boolean]> {
  return (async function* () {
    for await (const [data, isBinary] of on(emitter, 'message')) yield [data as Buffer, isBinary as boolean];
  })();
}

for (const perMessageDeflate of [false, true]) {
  for (const secure of [false, true]) {
    const label = `${secure ? 'wss' : 'ws'}, deflate ${perMessageDeflate ? 'on' : 'off'}`;

    t.test(`ws client → trident server (${label})`, async (t) => {
      const { server, url } = await trident({ perMessageDeflate, tls: secure });
      t.teardown(() => server.close());
      const client = new WS(url, ['a', 'b'], { perMessageDeflate, ca });
      await once(client, 'open');
      t.equal(client.protocol, 'b', 'the server picked the subprotocol');
      t.equal(client.extensions.includes('permessage-deflate'), perMessageDeflate, 'extension negotiated as configured');
      await echoAll(t, (data) => client.send(data), messages(client));
      // ws fragments on request: three frames, one message.
      client.send('frag', { fin: false });
      client.send('men', { fin: false });
      client.send('ted', { fin: true });
      const [fragmented] = (await once(client, 'message')) as [Buffer];
      t.equal(fragmented.toString(), 'fragmented');
      client.ping(Buffer.from('p1'));
      const [pong] = (await once(client, 'pong')) as [Buffer];
      t.equal(pong.toString(), 'p1', 'automatic pong with the same payload');
      const serverSawClose = once(server, 'session-closed');
      client.close(4321, 'goodbye');
      const [code, reason] = (await once(client, 'close')) as [number, Buffer];
      t.equal(code, 4321, 'close code echoed');
      t.equal(reason.toString(), '');
      t.same(await serverSawClose, [4321, 'goodbye']);
    });

    t.test(`trident client → ws server (${label})`, async (t) => {
      const wss = secure
        ? new WSServer({ server: https.createServer(tls), perMessageDeflate })
        : new WSServer({ port: 0, host: '127.0.0.1', perMessageDeflate });
      if (secure) await new Promise<void>((resolve) => wss.options.server!.listen(0, '127.0.0.1', resolve));
      else await once(wss, 'listening');
      const port = ((wss.options.server ?? wss).address() as { port: number }).port;
      t.teardown(() => new Promise<void>((resolve) => {
        wss.close(() => resolve());
        wss.options.server?.close();
      }));
      wss.on('connection', (ws, req) => {
        ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
        ws.on('close', (code, reason) => wss.emit('session-closed', code, reason.toString(), req.headers));
      });
      const client = new WebSocket(`${secure ? 'wss' : 'ws'}://localhost:${port}/x?y=1`, ['chat'], { perMessageDeflate, ca });
      t.equal(client.readyState, WebSocket.CONNECTING);
      await once(client, 'open');
      t.equal(client.protocol, 'chat');
      t.equal(client.extensions.includes('permessage-deflate'), perMessageDeflate);
      await echoAll(t, (data) => client.send(data), messages(client));
      const pong = once(client, 'pong');
      client.ping('hi');
      t.equal(((await pong)[0] as Buffer).toString(), 'hi');
      const serverSawClose = once(wss, 'session-closed');
      client.close(1000, 'bye');
      const [code, reason] = (await once(client, 'close')) as [number, string];
      t.equal(code, 1000);
      t.equal(reason, 'bye', 'ws echoes the reason too');
      const [serverCode, serverReason, headers] = (await serverSawClose) as [number, string, Record<string, string>];
      t.equal(serverCode, 1000);
      t.equal(serverReason, 'bye');
      t.equal(headers['sec-websocket-version'], '13');
    });
  }
}

t.test('deflate parameters against ws', async (t) => {
  const variants = [
    { serverNoContextTakeover: true },
    { clientNoContextTakeover: true },
    { serverMaxWindowBits: 10 },
    { clientMaxWindowBits: 9 },
    { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 9, clientMaxWindowBits: 9 },
  ];
  for (const params of variants) {
    const wss = new WSServer({ port: 0, host: '127.0.0.1', perMessageDeflate: { ...params, threshold: 0 } });
    await once(wss, 'listening');
    wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
    const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as { port: number }).port}/`, { perMessageDeflate: { threshold: 0 } });
    await once(client, 'open');
    const text = 'compress me '.repeat(500);
    for (let i = 0; i < 3; i++) {
      client.send(text);
      const [data] = (await once(client, 'message')) as [Buffer];
      t.equal(data.toString(), text, `${JSON.stringify(params)} message ${i}`);
    }
    t.match(client.extensions, /permessage-deflate/, `negotiated: ${client.extensions}`);
    client.close(1000);
    await once(client, 'close');
    await new Promise((resolve) => wss.close(resolve));
  }
  // And ws as client with the same variants against our server.
  for (const params of variants) {
    const { server, url } = await trident({ perMessageDeflate: true });
    const client = new WS(url, { perMessageDeflate: { ...params, threshold: 0 } });
    await once(client, 'open');
    const text = 'squeeze me '.repeat(500);
    for (let i = 0; i < 3; i++) {
      client.send(text);
      const [data] = (await once(client, 'message')) as [Buffer];
      t.equal(data.toString(), text, `ws client ${JSON.stringify(params)} message ${i}`);
    }
    client.close();
    await once(client, 'close');
    await server.close();
  }
});

t.test('trident client ↔ trident server over wss with a verified certificate', async (t) => {
  const { server, url } = await trident({ perMessageDeflate: true, tls: true });
  t.teardown(() => server.close());
  const client = new WebSocket(url, { ca });
  await once(client, 'open');
  await echoAll(t, (data) => client.send(data), messages(client));
  const untrusted = new WebSocket(url);
  const error = await new Promise<Error>((resolve) => untrusted.once('error', resolve));
  t.match(error.message, /self[- ]signed|unable to verify|certificate/i, 'an unknown CA is refused');
  client.close(1000);
  await once(client, 'close');
});

t.test('client validates URLs and protocols like the WHATWG API', async (t) => {
  for (const url of ['http://localhost/', 'ftp://x', 'not a url', 'ws://localhost/#frag', 'ws://localhost/#']) {
    t.throws(() => new WebSocket(url), { name: 'SyntaxError' }, url);
  }
  t.throws(() => new WebSocket('ws://localhost/', ['a', 'a']), { name: 'SyntaxError' }, 'duplicate protocol');
  t.throws(() => new WebSocket('ws://localhost/', ['a b']), { name: 'SyntaxError' }, 'protocol not a token');
});

t.test('client fails the connection on a bad server answer', async (t) => {
  const cases: Array<[string, (key: string) => string]> = [
    ['wrong accept', () => 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n'],
    ['unoffered protocol', (accept) => `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: other\r\n\r\n`],
    ['unoffered extension', (accept) => `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Extensions: x-foo\r\n\r\n`],
    ['403', () => 'HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n'],
  ];
  const { createServer } = await import('node:net');
  const { computeAcceptKey } = await import('../../src/handshake/accept-key.js');
  for (const [name, answer] of cases) {
    const server = createServer((socket) => {
      socket.once('data', (request) => {
        const key = /sec-websocket-key: (\S+)/i.exec(request.toString())![1];
        socket.end(answer(computeAcceptKey(key)));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = new WebSocket(`ws://127.0.0.1:${(server.address() as { port: number }).port}/`, { perMessageDeflate: false });
    const errors: Error[] = [];
    client.on('error', (error: Error) => errors.push(error));
    const [code] = await new Promise<[number]>((resolve) => client.once('close', (...args: [number]) => resolve(args)));
    t.equal(code, 1006, `${name}: close 1006`);
    t.equal(errors.length, 1, `${name}: one error reported`);
    t.ok(errors[0].message.length > 0, `${name}: ${errors[0].message}`);
    t.equal(client.readyState, WebSocket.CLOSED);
    server.close();
  }
});
