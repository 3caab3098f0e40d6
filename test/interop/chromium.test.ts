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
import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import t from 'tap';
import { makeCerts, startBinary, type LogLine, type RunningBinary } from '../helpers/binary.js';
import { CHROMIUM, launchChromium } from '../helpers/chromium.js';
import { echoInPage } from '../helpers/page-echo.js';

// A browser global used inside page.evaluate(); the project compiles without
// the DOM lib, so it is declared here, scoped to this module.
declare const location: { protocol: string };

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
    context = await launchChromium('trident-chromium-');
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
