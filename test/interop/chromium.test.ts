/**
 * Interop with a real browser: Debian's Chromium, driven by playwright-core,
 * loads the binary's landing page over http:// and https:// and from that page
 * talks to /echo over ws:// and wss://. The browser checks the echoes itself;
 * the binary's debug log and the DevTools protocol provide the evidence of
 * what was negotiated on each side.
 *
 * No skipping: without /usr/bin/chromium this file fails (CI installs it).
 */
import { existsSync } from 'node:fs';
import { chromium, type BrowserContext, type CDPSession, type Page } from 'playwright-core';
import t from 'tap';
import { makeCerts, makeTempDir, startBinary, type LogLine, type RunningBinary } from '../helpers/binary.js';

// Browser globals used inside page.evaluate(); the project compiles without the
// DOM lib, so they are declared here, scoped to this module.
declare const location: { origin: string; protocol: string };
interface CloseEvent extends Event {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
}

const CHROMIUM = '/usr/bin/chromium';
const TIMEOUT = 10_000;

function withTimeout<T>(promise: Promise<T>, what: string, ms = TIMEOUT): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms: ${what}`)), ms);
    }),
  ]);
}

interface EchoArgs {
  url: string;
  texts: string[];
  binarySize: number;
  closeReason: string;
  timeoutMs: number;
}

interface EchoReport {
  url: string;
  pageOrigin: string;
  extensions: string;
  protocol: string;
  texts: Array<{ sentLength: number; type: string; equal: boolean; receivedLength: number }>;
  binary: { isArrayBuffer: boolean; sentLength: number; receivedLength: number; firstMismatch: number };
  close: { code: number; reason: string; wasClean: boolean; readyState: number };
}

/**
 * Runs inside the page: opens a WebSocket, sends each text and one random
 * binary message, compares every echo byte for byte, then closes with 1000.
 * Kept self-contained (it is serialized into the page).
 */
async function echoInPage({ url, texts, binarySize, closeReason, timeoutMs }: EchoArgs): Promise<EchoReport> {
  const deadline = <T,>(promise: Promise<T>, what: string): Promise<T> =>
    Promise.race([
      promise,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`in page: timeout waiting for ${what}`)), timeoutMs)),
    ]);
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  const queue: MessageEvent[] = [];
  let waiter: ((event: MessageEvent) => void) | null = null;
  ws.onmessage = (event) => {
    if (waiter) {
      const w = waiter;
      waiter = null;
      w(event);
    } else queue.push(event);
  };
  const next = (what: string): Promise<MessageEvent> =>
    deadline(
      new Promise<MessageEvent>((resolve) => {
        const queued = queue.shift();
        if (queued) resolve(queued);
        else waiter = resolve;
      }),
      what,
    );
  const closed = new Promise<CloseEvent>((resolve) => ws.addEventListener('close', resolve));
  await deadline(
    new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error(`in page: WebSocket error while opening ${url}`));
    }),
    'open',
  );

  const textResults: EchoReport['texts'] = [];
  for (const text of texts) {
    ws.send(text);
    const event = await next('text echo');
    textResults.push({
      sentLength: text.length,
      type: typeof event.data,
      equal: event.data === text,
      receivedLength: typeof event.data === 'string' ? event.data.length : -1,
    });
  }

  // Random bytes do not compress, so even with permessage-deflate the frame
  // stays above 65,535 bytes and needs the 64-bit length.
  const bytes = new Uint8Array(binarySize);
  for (let offset = 0; offset < bytes.length; offset += 65_536) {
    crypto.getRandomValues(bytes.subarray(offset, Math.min(offset + 65_536, bytes.length)));
  }
  ws.send(bytes.buffer);
  const event = await next('binary echo');
  const isArrayBuffer = event.data instanceof ArrayBuffer;
  const received = isArrayBuffer ? new Uint8Array(event.data as ArrayBuffer) : new Uint8Array(0);
  let firstMismatch = received.length === bytes.length ? -1 : Math.min(received.length, bytes.length);
  for (let i = 0; i < Math.min(received.length, bytes.length); i++) {
    if (received[i] !== bytes[i]) {
      firstMismatch = i;
      break;
    }
  }

  ws.close(1000, closeReason);
  const closeEvent = await deadline(closed, 'close event');
  return {
    url: ws.url,
    pageOrigin: location.origin,
    extensions: ws.extensions,
    protocol: ws.protocol,
    texts: textResults,
    binary: { isArrayBuffer, sentLength: bytes.length, receivedLength: received.length, firstMismatch },
    close: { code: closeEvent.code, reason: closeEvent.reason, wasClean: closeEvent.wasClean, readyState: ws.readyState },
  };
}

interface Handshake {
  requestId: string;
  url?: string;
  status?: number;
  headers?: Record<string, string>;
}

/** Client-side evidence from the DevTools protocol: the WebSocket handshakes Chromium made. */
async function watchHandshakes(cdp: CDPSession): Promise<Map<string, Handshake>> {
  const handshakes = new Map<string, Handshake>();
  const get = (requestId: string): Handshake => {
    let h = handshakes.get(requestId);
    if (!h) handshakes.set(requestId, (h = { requestId }));
    return h;
  };
  cdp.on('Network.webSocketCreated', (event) => {
    get(event.requestId).url = event.url;
  });
  cdp.on('Network.webSocketHandshakeResponseReceived', (event) => {
    const h = get(event.requestId);
    h.status = event.response.status;
    h.headers = event.response.headers;
  });
  await cdp.send('Network.enable');
  return handshakes;
}

function header(headers: Record<string, string> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : headers[key];
}

if (!existsSync(CHROMIUM)) {
  t.fail(
    `${CHROMIUM} not found: this interop test needs Debian's chromium (apt-get install -y chromium). ` +
      'It fails rather than skips so that CI cannot pass without a browser.',
  );
} else {
  let bin: RunningBinary;
  let context: BrowserContext;
  let page: Page;
  let handshakes: Map<string, Handshake>;

  t.before(async () => {
    const certDir = await makeCerts();
    bin = await startBinary(['--log-level', 'debug'], {}, { certDir });
    context = await chromium.launchPersistentContext(makeTempDir('trident-chromium-'), {
      executablePath: CHROMIUM,
      headless: true,
      ignoreHTTPSErrors: true,
      timeout: 20_000,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
      ],
    });
    context.setDefaultTimeout(TIMEOUT);
    page = context.pages()[0] ?? (await context.newPage());
    handshakes = await watchHandshakes(await context.newCDPSession(page));
  });

  t.teardown(async () => {
    try {
      if (context) await withTimeout(context.close(), 'closing Chromium');
    } finally {
      bin?.kill();
    }
  });

  const cases = [
    // Over TLS the page arrives by HTTP/2 (ALPN), and Chromium then opens the
    // WebSocket as an RFC 8441 stream on that connection (browsers.md).
    { name: 'ws:// from the http:// landing page', page: () => `http://127.0.0.1:${bin.httpPort}/`, scheme: 'ws:', pageScheme: 'http:', httpVersion: 'HTTP/1.1', transport: 'http/1.1', status: 101 },
    { name: 'wss:// from the https:// landing page', page: () => `https://localhost:${bin.tlsPort}/`, scheme: 'wss:', pageScheme: 'https:', httpVersion: 'HTTP/2.0', transport: 'h2', status: 200 },
  ] as const;

  for (const c of cases) {
    t.test(c.name, async (t) => {
      const pageUrl = c.page();
      const response = await page.goto(pageUrl, { waitUntil: 'load' });
      t.equal(response?.status(), 200, 'landing page status 200');
      t.match(response?.headers()['content-type'], /^text\/html\b/, 'landing page is html');
      t.equal(await page.title(), 'trident-ws', 'landing page title');
      t.equal(await page.textContent('h1'), 'trident-ws', 'landing page heading');
      t.equal(await page.textContent('#http-version'), c.httpVersion, `page was served over ${c.httpVersion}`);
      t.equal(await page.evaluate(() => location.protocol), c.pageScheme, `page is on ${c.pageScheme}`);

      const wsUrl = new URL('/echo', pageUrl);
      wsUrl.protocol = c.scheme;
      const reason = `bye from chromium over ${c.scheme}`;
      const texts = ['héllo ✓ 😀', '', 'héllo ✓ 😀 '.repeat(3000)];
      const logsFrom = bin.logs.length;
      const report = await withTimeout(
        page.evaluate(echoInPage, { url: wsUrl.href, texts, binarySize: 70_000, closeReason: reason, timeoutMs: 5000 }),
        `echo session in the page (${wsUrl.href})`,
      );

      // What the page saw.
      t.equal(report.url, wsUrl.href, `socket url is ${wsUrl.href}`);
      t.match(report.extensions, /^permessage-deflate\b/, 'page sees permessage-deflate negotiated');
      t.equal(report.protocol, '', 'no subprotocol');
      t.equal(report.texts.length, texts.length, 'one echo per text');
      report.texts.forEach((r, i) => {
        t.equal(r.type, 'string', `text #${i} came back as text`);
        t.ok(r.equal, `text #${i} (${r.sentLength} UTF-16 units) came back identical`);
      });
      t.ok(report.binary.isArrayBuffer, 'binary came back as an ArrayBuffer');
      t.equal(report.binary.receivedLength, 70_000, 'binary echo has 70,000 bytes');
      t.equal(report.binary.firstMismatch, -1, 'binary echo is byte-exact');
      t.equal(report.close.code, 1000, 'CloseEvent code 1000');
      t.equal(report.close.wasClean, true, 'CloseEvent wasClean');
      t.equal(report.close.readyState, 3, 'socket is CLOSED');

      // What the server saw (authoritative for transport and extensions).
      const open = await bin.waitForLog((l) => l.msg === 'websocket open', { from: logsFrom, what: '"websocket open"' });
      t.equal(open.transport, c.transport, `server: session came over ${c.transport}`);
      t.match(String(open.extensions), /^permessage-deflate\b/, 'server: permessage-deflate negotiated');
      t.equal(open.peer, '127.0.0.1', 'server: peer is loopback');
      const session = open.session;
      t.ok(session !== undefined, 'server: session id logged');
      const sameSession = (l: LogLine): boolean => l.session === session;
      const closeFrame = await bin.waitForLog((l) => sameSession(l) && l.msg === 'close frame received', {
        from: logsFrom,
        what: '"close frame received"',
      });
      t.equal(closeFrame.code, 1000, 'server: received close code 1000');
      t.equal(closeFrame.reason, reason, 'server: received the close reason the page sent');
      const closedLine = await bin.waitForLog((l) => sameSession(l) && l.msg === 'websocket closed', {
        from: logsFrom,
        what: '"websocket closed"',
      });
      t.equal(closedLine.clean, true, 'server: session closed cleanly');
      t.equal(closedLine.code, 1000, 'server: closed with 1000');
      t.notOk(
        bin.logs.slice(logsFrom).some((l) => sameSession(l) && (l.msg === 'peer violated the protocol' || (l.level as number) >= 40)),
        'server: no protocol violation or warning for this session',
      );

      // What Chromium says about the handshake (DevTools protocol).
      const h = [...handshakes.values()].find((x) => x.url === wsUrl.href && x.status !== undefined);
      t.ok(h, 'DevTools saw the handshake');
      t.equal(h?.status, c.status, `DevTools: handshake status ${c.status} (${c.transport})`);
      t.match(header(h?.headers, 'sec-websocket-extensions'), /^permessage-deflate\b/, 'DevTools: response accepts permessage-deflate');
    });
  }

  t.test('the binary logged no errors and shuts down cleanly', async (t) => {
    t.notOk(
      bin.logs.some((l) => typeof l.level === 'number' && l.level >= 50),
      'no error or fatal log lines',
    );
    t.equal(await bin.stop('SIGTERM'), 0, 'exit code 0 after SIGTERM');
    t.equal(bin.stderr(), '', 'nothing on stderr');
  });
}
