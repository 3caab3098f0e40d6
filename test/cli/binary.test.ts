/**
 * Black-box tests of the `trident` binary (dist/cli/main.js) with real peers:
 * the `ws` npm package as the WebSocket client, node:http/node:https for plain
 * HTTP, certificates verified against the generated CA.
 */
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import t, { type Test } from 'tap';
import WebSocket from 'ws';
import { WebSocket as TridentWebSocket } from '../../src/index.js';
import { makeCerts, runBinary, startBinary, type RunningBinary } from '../helpers/binary.js';

const TIMEOUT = 5000;

// ---------------------------------------------------------------------------
// Small clients with timeouts

interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function httpGet(url: string, ca?: string): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const get = url.startsWith('https:') ? https.get : http.get;
    const req = get(url, { ca, agent: false, timeout: TIMEOUT }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: GET ${url}`)));
    req.on('error', reject);
  });
}

interface Message {
  data: Buffer;
  isBinary: boolean;
}

/** A `ws` client that queues messages from the start, so none is missed. */
class Peer {
  readonly ws: WebSocket;
  private readonly queue: Message[] = [];
  private waiter: { resolve: (message: Message) => void; reject: (error: Error) => void } | null = null;
  private closeInfo: { code: number; reason: string } | null = null;
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(url: string, options: WebSocket.ClientOptions = {}) {
    this.ws = new WebSocket(url, { handshakeTimeout: TIMEOUT, ...options });
    this.ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      const message = { data: Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]), isBinary };
      if (this.waiter) {
        const waiter = this.waiter;
        this.waiter = null;
        waiter.resolve(message);
      } else this.queue.push(message);
    });
    this.closed = new Promise((resolve) => {
      this.ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        resolve(this.closeInfo);
        // A message can no longer arrive: fail a pending next() now, not at its timeout.
        const waiter = this.waiter;
        this.waiter = null;
        waiter?.reject(new Error(`connection closed (${code} ${this.closeInfo.reason}) while waiting for a message`));
      });
    });
    // Errors surface through open()/close codes; never crash the test process.
    this.ws.on('error', () => {});
  }

  open(): Promise<this> {
    return withTimeout(
      new Promise<this>((resolve, reject) => {
        if (this.ws.readyState === WebSocket.OPEN) return resolve(this);
        this.ws.once('open', () => resolve(this));
        this.ws.once('error', reject);
        this.ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected response ${res.statusCode}`)));
      }),
      `opening ${this.ws.url}`,
    );
  }

  next(what = 'a message'): Promise<Message> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.waiter) throw new Error('only one next() at a time');
    if (this.closeInfo) {
      const { code, reason } = this.closeInfo;
      return Promise.reject(new Error(`connection closed (${code} ${reason}) before ${what} arrived`));
    }
    return withTimeout(
      new Promise<Message>((resolve, reject) => {
        this.waiter = { resolve, reject };
      }),
      `waiting for ${what} on ${this.ws.url}`,
      () => {
        this.waiter = null;
      },
    );
  }

  waitClosed(what = 'close'): Promise<{ code: number; reason: string }> {
    return withTimeout(this.closed, `waiting for ${what} on ${this.ws.url}`);
  }

  /** The TCP socket under this client (for wire byte counts). */
  get socket(): Socket {
    return (this.ws as unknown as { _socket: Socket })._socket;
  }

  terminate(): void {
    this.ws.terminate();
  }
}

function withTimeout<T>(promise: Promise<T>, what: string, onTimeout?: () => void, ms = TIMEOUT): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        onTimeout?.();
        reject(new Error(`timeout after ${ms} ms: ${what}`));
      }, ms);
    }),
  ]);
}

/** Opens a peer and closes it (or kills it) when the test ends. */
async function peer(t: Test, url: string, options: WebSocket.ClientOptions = {}): Promise<Peer> {
  const p = new Peer(url, options);
  t.teardown(() => p.terminate());
  return p.open();
}

/** The status line of a refused upgrade, as `ws` reports it. */
function upgradeStatus(url: string, options: WebSocket.ClientOptions = {}): Promise<number> {
  return withTimeout(
    new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(url, { handshakeTimeout: TIMEOUT, ...options });
      ws.on('unexpected-response', (req, res) => {
        resolve(res.statusCode ?? 0);
        res.resume();
        req.destroy();
      });
      ws.on('upgrade', (res) => reject(new Error(`upgrade to ${url} succeeded with ${res.statusCode}`)));
      ws.on('open', () => {
        ws.terminate();
        reject(new Error(`upgrade to ${url} succeeded`));
      });
      ws.on('error', (error) => reject(error));
    }),
    `upgrade to ${url}`,
  );
}

/** Bytes that are neither all equal nor valid UTF-8 text, position-dependent. */
function pattern(length: number, seed = 7): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed + (i >> 8)) & 0xff;
  return bytes;
}

// ---------------------------------------------------------------------------

let certDir: string;
let bin: RunningBinary;

t.before(async () => {
  certDir = await makeCerts();
  bin = await startBinary([], {}, { certDir });
});
t.teardown(() => bin?.kill());

t.test('landing page over http:// and https:// (CA-verified)', async (t) => {
  const plain = await httpGet(`http://127.0.0.1:${bin.httpPort}/`);
  t.equal(plain.status, 200, 'http status');
  t.match(plain.headers['content-type'], /^text\/html\b/, 'http content-type is html');
  t.match(plain.body, /trident-ws/, 'http body names the project');
  t.match(plain.body, /ws:\/\/127\.0\.0\.1:\d+\/echo/, 'http page advertises ws://…/echo');

  const secure = await httpGet(`https://127.0.0.1:${bin.tlsPort}/`, bin.caPem);
  t.equal(secure.status, 200, 'https status');
  t.match(secure.headers['content-type'], /^text\/html\b/, 'https content-type is html');
  t.match(secure.body, /trident-ws/, 'https body names the project');
  t.match(secure.body, /wss:\/\/127\.0\.0\.1:\d+\/echo/, 'https page advertises wss://…/echo');
});

t.test('the TLS listener really is verified: without the CA the handshake fails', async (t) => {
  await t.rejects(httpGet(`https://127.0.0.1:${bin.tlsPort}/`), { code: /SELF_SIGNED|UNABLE_TO|CERT/ }, 'https without CA');
  const p = new Peer(`wss://127.0.0.1:${bin.tlsPort}/echo`);
  t.teardown(() => p.terminate());
  await t.rejects(p.open(), { code: /SELF_SIGNED|UNABLE_TO|CERT/ }, 'wss without CA');
});

t.test('plain GET of an unknown path is 404', async (t) => {
  const plain = await httpGet(`http://127.0.0.1:${bin.httpPort}/nope`);
  t.equal(plain.status, 404, 'http /nope');
  const secure = await httpGet(`https://127.0.0.1:${bin.tlsPort}/nope`, bin.caPem);
  t.equal(secure.status, 404, 'https /nope');
});

t.test('a WebSocket upgrade to an unknown path gets HTTP 404, not 101', async (t) => {
  t.equal(await upgradeStatus(`ws://127.0.0.1:${bin.httpPort}/nope`), 404, 'ws:// /nope');
  t.equal(await upgradeStatus(`wss://127.0.0.1:${bin.tlsPort}/nope`, { ca: bin.caPem }), 404, 'wss:// /nope');
  t.equal(await upgradeStatus(`ws://127.0.0.1:${bin.httpPort}/chat/`), 404, 'ws:// /chat/ (no room name)');
  await bin.waitForLog((l) => l.msg === 'handshake refused' && l.url === '/nope' && l.status === 404, {
    what: 'handshake refused for /nope',
  });
});

const echoCases = [
  { scheme: 'ws', deflate: false },
  { scheme: 'ws', deflate: true },
  { scheme: 'wss', deflate: false },
  { scheme: 'wss', deflate: true },
] as const;

for (const { scheme, deflate } of echoCases) {
  t.test(`/echo over ${scheme}:// ${deflate ? 'with' : 'without'} permessage-deflate`, async (t) => {
    const url =
      scheme === 'ws' ? `ws://127.0.0.1:${bin.httpPort}/echo` : `wss://127.0.0.1:${bin.tlsPort}/echo`;
    const p = await peer(t, url, {
      ca: scheme === 'wss' ? bin.caPem : undefined,
      // threshold 0: the client compresses even small messages.
      perMessageDeflate: deflate ? { threshold: 0 } : false,
    });
    if (deflate) t.match(p.ws.extensions, /^permessage-deflate\b/, 'server accepted permessage-deflate');
    else t.equal(p.ws.extensions, '', 'no extension negotiated');

    const text = 'héllo ✓ 😀';
    p.ws.send(text);
    const echoedText = await p.next('text echo');
    t.equal(echoedText.isBinary, false, 'text comes back as text');
    t.equal(echoedText.data.toString('utf8'), text, 'text bytes identical');

    const binary = pattern(70_000);
    p.ws.send(binary);
    const echoedBinary = await p.next('binary echo');
    t.equal(echoedBinary.isBinary, true, 'binary comes back as binary');
    t.ok(echoedBinary.data.equals(binary), 'binary bytes identical (70,000 bytes)');

    p.ws.send(Buffer.alloc(0));
    const empty = await p.next('empty binary echo');
    t.equal(empty.isBinary, true, 'empty binary comes back as binary');
    t.equal(empty.data.length, 0, 'empty binary is empty');

    // Wire evidence that compression is (or is not) in use in both directions:
    // 200 KB of repetitive text takes a few KB when deflated.
    const big = 'abcdefgh'.repeat(25_000);
    const readBefore = p.socket.bytesRead;
    const writtenBefore = p.socket.bytesWritten;
    p.ws.send(big);
    const echoedBig = await p.next('200 KB text echo');
    t.equal(echoedBig.isBinary, false, 'big text comes back as text');
    t.equal(echoedBig.data.toString('utf8'), big, 'big text identical');
    const read = p.socket.bytesRead - readBefore;
    const written = p.socket.bytesWritten - writtenBefore;
    if (deflate) {
      t.ok(read < 20_000, `server compressed its reply (${read} bytes on the wire for 200,000)`);
      t.ok(written < 20_000, `client sent compressed (${written} bytes on the wire for 200,000)`);
    } else {
      t.ok(read >= 200_000, `server sent uncompressed (${read} bytes on the wire)`);
      t.ok(written >= 200_000, `client sent uncompressed (${written} bytes on the wire)`);
    }

    p.ws.close(1000, 'done');
    const closed = await p.waitClosed();
    t.equal(closed.code, 1000, 'clean close echoed with 1000');
  });
}

t.test('/chat/<room> broadcasts to everyone in the room, sender included, and nobody else', async (t) => {
  const lobby = `ws://127.0.0.1:${bin.httpPort}/chat/lobby`;
  const a = await peer(t, lobby);
  const b = await peer(t, lobby);
  const c = await peer(t, `wss://127.0.0.1:${bin.tlsPort}/chat/lobby`, { ca: bin.caPem });
  const other = await peer(t, `ws://127.0.0.1:${bin.httpPort}/chat/other`);

  a.ws.send('hello lobby ✓');
  for (const [name, p] of [['a (sender)', a], ['b', b], ['c (over wss)', c]] as const) {
    const message = await p.next(`lobby message at ${name}`);
    t.equal(message.data.toString('utf8'), 'hello lobby ✓', `${name} got the lobby message`);
    t.equal(message.isBinary, false, `${name} got it as text`);
  }

  const bytes = pattern(300, 99);
  b.ws.send(bytes);
  for (const [name, p] of [['a', a], ['b (sender)', b], ['c', c]] as const) {
    const message = await p.next(`binary lobby message at ${name}`);
    t.equal(message.isBinary, true, `${name} got binary as binary`);
    t.ok(message.data.equals(bytes), `${name} got the same bytes`);
  }

  // Everything above was broadcast before this: had the server sent lobby
  // traffic to the other room, it would be queued ahead of this marker.
  other.ws.send('only in other');
  const first = await other.next('the marker in /chat/other');
  t.equal(first.data.toString('utf8'), 'only in other', 'the first message in /chat/other is its own, not lobby traffic');

  // And the marker did not leak into the lobby: a later lobby message is next.
  c.ws.send('second lobby message');
  for (const [name, p] of [['a', a], ['b', b], ['c', c]] as const) {
    const message = await p.next(`second lobby message at ${name}`);
    t.equal(message.data.toString('utf8'), 'second lobby message', `${name}: next message is lobby traffic`);
  }
});

t.test('a chat room mixes clients of all three transports', async (t) => {
  const url = (path: string) => `wss://localhost:${bin.tlsPort}${path}`;
  const clients = [
    new TridentWebSocket(url('/chat/mixed'), { ca: bin.caPem, transport: 'h1' }),
    new TridentWebSocket(url('/chat/mixed'), { ca: bin.caPem, transport: 'h2' }),
    new TridentWebSocket(url('/chat/mixed'), { ca: bin.caPem, transport: 'h3', http3IdleTimeout: 50 }),
  ];
  await Promise.all(clients.map((c) => new Promise((resolve, reject) => (c.once('open', resolve), c.once('error', reject)))));
  t.same(clients.map((c) => c.transport), ['http/1.1', 'h2', 'h3'], 'one client per transport');
  const inboxes = clients.map(() => [] as string[]);
  clients.forEach((c, i) => c.on('message', (data: Buffer) => inboxes[i].push(data.toString())));
  const all = new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (inboxes.every((inbox) => inbox.length === 3)) resolve(clearInterval(check));
    }, 5);
  });
  clients.forEach((c, i) => c.send(`hello from ${c.transport} ${i}`));
  await all;
  for (const [i, inbox] of inboxes.entries()) {
    t.same([...inbox].sort(), ['hello from h2 1', 'hello from h3 2', 'hello from http/1.1 0'], `client ${i} got every message`);
  }
  for (const c of clients) {
    const closed = new Promise((resolve) => c.once('close', resolve));
    c.close(1000);
    await closed;
  }
});

for (const transport of ['h1', 'h2', 'h3'] as const) {
  t.test(`${transport}: a compressed chat message and close() at once: the echo comes first, the server lives on`, async (t) => {
    const ws = new TridentWebSocket(`wss://localhost:${bin.tlsPort}/chat/deflate-${transport}`, {
      ca: bin.caPem,
      transport,
      perMessageDeflate: true,
      http3IdleTimeout: 50,
    });
    await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
    t.match(ws.extensions, /permessage-deflate/, 'deflate negotiated (the binary has it on by default)');
    const echoed = new Promise<Buffer>((resolve) => ws.once('message', resolve));
    const closed = new Promise<number>((resolve) => ws.once('close', resolve));
    ws.send('m'.repeat(2000));
    ws.close(1000);
    t.equal((await echoed).toString(), 'm'.repeat(2000), 'the broadcast reached the sender before the close');
    t.equal(await closed, 1000, 'a clean close, not 1006');
    t.equal(bin.process.exitCode, null, 'the server process is alive');
    t.equal(bin.stderr(), '', 'nothing on stderr');
  });

  t.test(`${transport}: /echo takes a message of the default maxMessageSize (16 MiB) and echoes it whole`, async (t) => {
    const ws = new TridentWebSocket(`wss://localhost:${bin.tlsPort}/echo`, { ca: bin.caPem, transport, http3IdleTimeout: 50 });
    await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
    const sent = pattern(16 * 1024 * 1024);
    const echoed = new Promise<Buffer>((resolve) => ws.once('message', resolve));
    ws.send(sent);
    t.ok((await echoed).equals(sent), '16 MiB echoed intact');
    const closed = new Promise<number>((resolve) => ws.once('close', resolve));
    ws.close(1000);
    t.equal(await closed, 1000);
  });
}

t.test('SIGTERM during /echo traffic: every close handshake completes, none waits for the close timeout', async (t) => {
  const own = await startBinary(['--close-timeout', '5000', '--log-level', 'debug'], {}, { certDir });
  t.teardown(() => own.kill());
  const clients = await Promise.all(
    Array.from({ length: 30 }, () => peer(t, `ws://127.0.0.1:${own.httpPort}/echo`)),
  );
  // Each client answers every echo with the next message: the server is always mid-echo.
  for (const { ws } of clients) {
    const payload = Buffer.alloc(8 * 1024, 1);
    ws.on('message', () => ws.readyState === WebSocket.OPEN && ws.send(payload));
    ws.send(payload);
  }
  const results = clients.map(
    ({ ws }) => new Promise<{ code: number; wasClean: boolean }>((resolve) => ws.addEventListener('close', (e) => resolve({ code: e.code, wasClean: e.wasClean }))),
  );
  t.equal(await own.stop('SIGTERM'), 0, 'exit 0');
  const closes = await Promise.all(results);
  t.same(new Set(closes.map((c) => c.code)), new Set([1001]), 'every client got 1001');
  t.equal(closes.filter((c) => !c.wasClean).length, 0, 'every client saw both close frames');
  // The client cannot tell whether its close reply was read: the server's own account can.
  const closedLines = own.logs.filter((line) => line.msg === 'websocket closed');
  t.equal(closedLines.length, 30, 'the server logged every session closing');
  t.equal(closedLines.filter((line) => line.clean !== true).length, 0, "the server read every client's close reply");
  t.notOk(own.logs.some((line) => line.msg === 'close timeout: aborting the transport'), 'no session waited for the close timeout');
});

t.test('SIGTERM closes every session with 1001 and exits 0', async (t) => {
  const own = await startBinary([], {}, { certDir });
  t.teardown(() => own.kill());
  const one = await peer(t, `ws://127.0.0.1:${own.httpPort}/echo`);
  const two = await peer(t, `wss://127.0.0.1:${own.tlsPort}/chat/room`, { ca: own.caPem });
  // Make sure both sessions are fully served before the signal.
  one.ws.send('ping');
  t.equal((await one.next('echo before SIGTERM')).data.toString(), 'ping', 'echo works before shutdown');
  two.ws.send('ping');
  t.equal((await two.next('chat before SIGTERM')).data.toString(), 'ping', 'chat works before shutdown');

  const from = own.logs.length;
  const [exitCode, closeOne, closeTwo] = await Promise.all([
    own.stop('SIGTERM'),
    one.waitClosed('1001 on ws://'),
    two.waitClosed('1001 on wss://'),
  ]);
  t.equal(closeOne.code, 1001, 'ws:// client got 1001 (going away)');
  t.equal(closeTwo.code, 1001, 'wss:// client got 1001 (going away)');
  t.equal(exitCode, 0, 'process exited with code 0');
  const shutdown = own.logs.slice(from).find((l) => l.msg === 'shutting down');
  t.ok(shutdown, 'logged "shutting down"');
  t.equal(shutdown?.signal, 'SIGTERM', 'with the signal');
  t.equal(shutdown?.sessions, 2, 'with both sessions counted');
  t.ok(own.logs.slice(from).some((l) => l.msg === 'server closed'), 'logged "server closed"');
});

t.test('SIGINT shuts down gracefully too', async (t) => {
  const own = await startBinary([], {}, { certDir });
  t.teardown(() => own.kill());
  const one = await peer(t, `ws://127.0.0.1:${own.httpPort}/echo`);
  const [exitCode, closed] = await Promise.all([own.stop('SIGINT'), one.waitClosed('1001 after SIGINT')]);
  t.equal(closed.code, 1001, 'client got 1001');
  t.equal(exitCode, 0, 'process exited with code 0');
});

t.test('--help prints usage and exits 0', async (t) => {
  const result = await runBinary(['--help']);
  t.equal(result.code, 0, 'exit code 0');
  t.match(result.stdout, /^Usage: trident/, 'usage on stdout');
  for (const flag of ['--port', '--http-port', '--cert', '--key', '--max-message-size', '--heartbeat', '--no-deflate', '--allowed-origins']) {
    t.ok(result.stdout.includes(flag), `usage documents ${flag}`);
  }
  t.match(result.stdout, /TRIDENT_MAX_MESSAGE_SIZE/, 'usage names the environment variables');
  t.equal(result.stderr, '', 'nothing on stderr');
});

t.test('invalid command lines exit 2 with a message on stderr', async (t) => {
  // Ephemeral ports everywhere, so that a binary that wrongly accepts the
  // command line cannot take a fixed port; it is killed after 5 s.
  const safe = ['--host', '127.0.0.1', '--port', '0', '--http-port', '0'];
  const unknown = await runBinary(['serve', ...safe, '--bogus-flag'], {}, 5000);
  t.equal(unknown.code, 2, 'unknown flag: exit code 2');
  t.match(unknown.stderr, /^trident: .*bogus-flag/, 'unknown flag: stderr names it');
  t.match(unknown.stderr, /Usage: trident/, 'unknown flag: stderr shows usage');
  t.equal(unknown.stdout, '', 'unknown flag: nothing on stdout');

  const badPort = await runBinary(['serve', '--host', '127.0.0.1', '--port', '0', '--http-port', 'eighty'], {}, 5000);
  t.equal(badPort.code, 2, 'non-numeric port: exit code 2');
  t.match(badPort.stderr, /--http-port must be/, 'non-numeric port: stderr explains');

  const badCommand = await runBinary(['frobnicate', ...safe], {}, 5000);
  t.equal(badCommand.code, 2, 'unknown command: exit code 2');
  t.match(badCommand.stderr, /unknown command "frobnicate"/, 'unknown command: stderr explains');

  const badEnv = await runBinary(['serve', ...safe], { TRIDENT_MAX_MESSAGE_SIZE: '-5' }, 5000);
  t.equal(badEnv.code, 2, 'invalid environment value: exit code 2');
  t.match(badEnv.stderr, /--max-message-size must be a non-negative integer, got "-5"/, 'invalid environment value: stderr explains');
});

t.test('configuration from the environment: TRIDENT_MAX_MESSAGE_SIZE and TRIDENT_NO_DEFLATE', async (t) => {
  const own = await startBinary([], { TRIDENT_MAX_MESSAGE_SIZE: '1000', TRIDENT_NO_DEFLATE: '1' }, { certDir });
  t.teardown(() => own.kill());
  // The client offers permessage-deflate; the server must decline it.
  const p = await peer(t, `ws://127.0.0.1:${own.httpPort}/echo`, { perMessageDeflate: { threshold: 0 } });
  t.equal(p.ws.extensions, '', 'TRIDENT_NO_DEFLATE=1: permessage-deflate declined');

  const exactly = pattern(1000);
  p.ws.send(exactly);
  const echoed = await p.next('1000-byte echo');
  t.ok(echoed.data.equals(exactly), 'a 1000-byte message is within the limit and echoed');

  p.ws.send(pattern(1001));
  const closed = await p.waitClosed('close 1009');
  t.equal(closed.code, 1009, 'a 1001-byte message gets close code 1009 (message too big)');
});

t.test('flags win over the environment', async (t) => {
  const own = await startBinary(['--max-message-size', '2000'], { TRIDENT_MAX_MESSAGE_SIZE: '1000' }, { certDir });
  t.teardown(() => own.kill());
  const p = await peer(t, `ws://127.0.0.1:${own.httpPort}/echo`, { perMessageDeflate: false });
  t.equal(p.ws.extensions, '', 'no extension (client offered none)');
  const payload = pattern(1500);
  p.ws.send(payload);
  const echoed = await p.next('1500-byte echo');
  t.ok(echoed.data.equals(payload), 'a 1500-byte message passes with --max-message-size 2000 despite the env var');
  p.ws.send(pattern(2001));
  t.equal((await p.waitClosed('close 1009')).code, 1009, 'a 2001-byte message gets 1009');
});

t.test('the shared binary shuts down cleanly at the end', async (t) => {
  const code = await bin.stop('SIGTERM');
  t.equal(code, 0, 'exit code 0');
  t.equal(bin.stderr(), '', 'nothing was written to stderr during the whole run');
  t.same(bin.otherStdout, [], 'every stdout line was JSON');
  t.notOk(
    bin.logs.some((l) => typeof l.level === 'number' && l.level >= 50),
    'no error or fatal log lines during the whole run',
  );
});
