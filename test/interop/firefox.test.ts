/**
 * Interop with a real Firefox (Debian's firefox-esr), driven through its
 * built-in WebDriver BiDi server (test/helpers/firefox-bidi.ts): Firefox talks
 * to the `trident` binary's /echo over wss://, the page checks the echoes
 * byte for byte, and the binary's debug log proves what arrived on the server:
 * an HTTP/2 extended CONNECT stream (RFC 8441) with permessage-deflate, the
 * close code and reason the page sent, and a clean close.
 *
 * 1. From about:blank, before Firefox has any connection to the server: Firefox
 *    offers h2 on the new connection and uses extended CONNECT right away.
 * 2. From the https:// landing page (served over HTTP/2): "héllo ✓ 😀", 70,000
 *    random bytes, close(1000, 'firefox done').
 * 3. Negative control, in a second Firefox whose profile sets
 *    network.http.http2.websockets=false: the same page (still HTTP/2) opens
 *    its WebSocket over HTTP/1.1, and the server log says so. This shows that
 *    the transport assertions of 1 and 2 can fail.
 * 4. Every session then closes cleanly on the server. Firefox 153 ESR does
 *    not end its side of an RFC 8441 stream after the close handshake (no
 *    END_STREAM and no RST_STREAM within 15 s; both come only when it quits),
 *    so the server ends each HTTP/2 session when its close timeout (10 s) runs
 *    out; the file waits for that once, for all sessions together, and reports
 *    it as a comment.
 *
 * Both Firefoxes start in parallel (about 2 s each); the file takes about
 * 16-18 s, 10 of them waiting for the close timeout. No skipping: without
 * /usr/bin/firefox-esr this file fails (CI installs it).
 */
import { existsSync } from 'node:fs';
import t, { type Test } from 'tap';
import { makeCerts, startBinary, type LogLine, type RunningBinary } from '../helpers/binary.js';
import { FIREFOX, launchFirefox, withTimeout, type Firefox } from '../helpers/firefox-bidi.js';
import { echoInPage, type EchoArgs, type EchoReport } from '../helpers/page-echo.js';

// Browser globals used inside the page; the project compiles without the DOM
// lib, so they are declared here, scoped to this module.
declare const location: { protocol: string };
declare const document: {
  title: string;
  querySelector(selector: string): { textContent: string | null } | null;
};

/** Every wait in the page. */
const PAGE_TIMEOUT = 5000;
/** Every BiDi command, and every wait for a log line of the binary. */
const TIMEOUT = 10_000;
/** The binary's default --close-timeout. */
const CLOSE_TIMEOUT = 10_000;
const TEXT = 'héllo ✓ 😀';
const BINARY_SIZE = 70_000;

/** What the landing page says about itself (runs in the page). */
function describePage(): { title: string; heading: string | null; httpVersion: string | null; protocol: string } {
  return {
    title: document.title,
    heading: document.querySelector('h1')?.textContent ?? null,
    httpVersion: document.querySelector('#http-version')?.textContent ?? null,
    protocol: location.protocol,
  };
}

/** Runs echoInPage in Firefox; a failure carries Firefox's console messages. */
async function runEcho(firefox: Firefox, context: string, args: EchoArgs): Promise<EchoReport> {
  try {
    return await firefox.evaluate(context, echoInPage, args, TIMEOUT);
  } catch (error) {
    const console = firefox.console.map((e) => `  [${e.level}] ${e.text}${e.url ? ` (${e.url})` : ''}`).join('\n');
    throw new Error(`${(error as Error).message}\nFirefox console:\n${console || '  (empty)'}`);
  }
}

/** Assertions on what the page saw. */
function checkPageReport(t: Test, report: EchoReport, args: EchoArgs): void {
  t.equal(report.url, args.url, `socket url is ${args.url}`);
  t.match(report.extensions, /^permessage-deflate\b/, 'page: permessage-deflate negotiated');
  t.equal(report.protocol, '', 'page: no subprotocol');
  t.equal(report.texts.length, 1, 'page: one text echo');
  const [text] = report.texts;
  t.equal(text?.type, 'string', 'page: text came back as text');
  t.ok(text?.equal, `page: text came back identical (${text?.sentLength} UTF-16 units, got ${text?.receivedLength})`);
  t.ok(report.binary.isArrayBuffer, 'page: binary came back as an ArrayBuffer');
  t.equal(report.binary.receivedLength, args.binarySize, `page: binary echo has ${args.binarySize} bytes`);
  t.equal(report.binary.firstMismatch, -1, 'page: binary echo is byte-exact');
  t.equal(report.close.code, 1000, 'page: CloseEvent code 1000');
  t.equal(report.close.wasClean, true, 'page: CloseEvent wasClean');
  t.equal(report.close.readyState, 3, 'page: socket is CLOSED');
}

/** A WebSocket session the binary opened for one subtest. */
interface ServerSession {
  name: string;
  id: unknown;
  transport: 'h2' | 'http/1.1';
  reason: string;
  /** Index of its "websocket open" line in bin.logs. */
  from: number;
}

/**
 * Assertions on what the binary logged for the one session this subtest
 * opened (found by the close reason, unique per subtest): its transport,
 * permessage-deflate and the close frame. Whether it then closed cleanly is
 * checked later, for all sessions at once: over HTTP/2 Firefox does not end its
 * side of the stream after the close handshake, so the server ends the stream
 * when its close timeout (10 s) runs out, and waiting for that once, in
 * parallel, keeps this file short.
 */
async function checkServerSession(
  t: Test,
  bin: RunningBinary,
  from: number,
  name: string,
  reason: string,
  transport: 'h2' | 'http/1.1',
): Promise<ServerSession> {
  const closeFrame = await bin.waitForLog((l) => l.msg === 'close frame received' && l.reason === reason, {
    from,
    timeoutMs: TIMEOUT,
    what: `"close frame received" with reason ${JSON.stringify(reason)}`,
  });
  const session = closeFrame.session;
  t.type(session, 'number', `server: session id ${String(session)} logged`);
  const sameSession = (l: LogLine): boolean => l.session === session;
  const open = await bin.waitForLog((l) => sameSession(l) && l.msg === 'websocket open', { from, timeoutMs: TIMEOUT, what: '"websocket open"' });
  t.equal(open.transport, transport, `server: the WebSocket arrived over ${transport}`);
  t.equal(closeFrame.transport, transport, `server: its close frame came over ${transport}`);
  t.match(String(open.extensions), /^permessage-deflate\b/, 'server: permessage-deflate negotiated');
  t.equal(open.protocol, '', 'server: no subprotocol');
  t.equal(open.peer, '127.0.0.1', 'server: peer is loopback');
  t.equal(closeFrame.code, 1000, 'server: received close code 1000');
  t.equal(closeFrame.reason, reason, `server: received close reason ${JSON.stringify(reason)}`);
  const opened = bin.logs.slice(from).filter((l) => l.msg === 'websocket open');
  t.equal(opened.length, 1, 'server: exactly one WebSocket opened during this subtest');
  return { name, id: session, transport, reason, from: bin.logs.indexOf(open) };
}

if (!existsSync(FIREFOX)) {
  t.fail(
    `${FIREFOX} not found: this interop test needs Debian's Firefox (apt-get install -y firefox-esr). ` +
      'It fails rather than skips so that CI cannot pass without a browser.',
  );
} else {
  let bin: RunningBinary;
  /** Default prefs: WebSockets over HTTP/2 allowed (Firefox's default). */
  let firefox: Firefox | undefined;
  /** network.http.http2.websockets=false: the negative control. */
  let control: Firefox | undefined;
  const sessions: ServerSession[] = [];

  t.before(async () => {
    const certDir = await makeCerts();
    bin = await startBinary(['--log-level', 'debug'], {}, { certDir });
    const [main, second] = await Promise.allSettled([
      launchFirefox(),
      launchFirefox({ prefs: { 'network.http.http2.websockets': false } }),
    ]);
    if (main.status === 'fulfilled') firefox = main.value;
    if (second.status === 'fulfilled') control = second.value;
    if (main.status === 'rejected') throw main.reason;
    if (second.status === 'rejected') throw second.reason;
  });

  t.teardown(async () => {
    try {
      await withTimeout(Promise.all([firefox?.close(), control?.close()]), 'closing Firefox', 20_000);
    } finally {
      firefox?.kill();
      control?.kill();
      bin?.kill();
    }
  });

  t.test('Firefox is the real thing, in a BiDi session that accepts the dev certificate', async (t) => {
    t.equal(firefox!.capabilities.browserName, 'firefox', 'browserName firefox');
    t.match(String(firefox!.capabilities.browserVersion), /^\d+\./, `browserVersion ${String(firefox!.capabilities.browserVersion)}`);
    t.equal(firefox!.capabilities.acceptInsecureCerts, true, 'acceptInsecureCerts granted');
    t.equal(firefox!.capabilities['moz:headless'], true, 'headless');
    t.equal(control!.capabilities.acceptInsecureCerts, true, 'control: acceptInsecureCerts granted');
  });

  // First, so that Firefox has no connection to the server yet: the WebSocket
  // needs a new one, and Firefox offers h2 on it and uses extended CONNECT.
  t.test('wss:// from about:blank on a new connection rides HTTP/2 (RFC 8441)', async (t) => {
    const context = await firefox!.topLevelContext();
    const args: EchoArgs = {
      url: `wss://localhost:${bin.tlsPort}/echo`,
      texts: [TEXT],
      binarySize: BINARY_SIZE,
      closeReason: 'firefox done (about:blank)',
      timeoutMs: PAGE_TIMEOUT,
    };
    const from = bin.logs.length;
    const report = await runEcho(firefox!, context, args);
    t.equal(report.pageUrl, 'about:blank', 'page is about:blank');
    t.equal(report.pageOrigin, 'null', 'page origin is null');
    checkPageReport(t, report, args);
    sessions.push(await checkServerSession(t, bin, from, 'about:blank', args.closeReason, 'h2'));
  });

  t.test('wss:// from the https:// landing page rides HTTP/2 (RFC 8441)', async (t) => {
    const context = await firefox!.topLevelContext();
    const pageUrl = `https://localhost:${bin.tlsPort}/`;
    t.equal(await firefox!.navigate(context, pageUrl, TIMEOUT), pageUrl, `navigated to ${pageUrl}`);
    const page = await firefox!.evaluate(context, describePage, undefined, TIMEOUT);
    t.equal(page.title, 'trident-ws', 'landing page title');
    t.equal(page.heading, 'trident-ws', 'landing page heading');
    t.equal(page.protocol, 'https:', 'page is on https:');
    t.equal(page.httpVersion, 'HTTP/2.0', 'page was served over HTTP/2');

    const args: EchoArgs = {
      url: `wss://localhost:${bin.tlsPort}/echo`,
      texts: [TEXT],
      binarySize: BINARY_SIZE,
      closeReason: 'firefox done',
      timeoutMs: PAGE_TIMEOUT,
    };
    const from = bin.logs.length;
    const report = await runEcho(firefox!, context, args);
    t.equal(report.pageUrl, pageUrl, 'the WebSocket was opened by the landing page');
    checkPageReport(t, report, args);
    sessions.push(await checkServerSession(t, bin, from, 'landing page', args.closeReason, 'h2'));
  });

  t.test('negative control: with network.http.http2.websockets=false the same page uses HTTP/1.1', async (t) => {
    const context = await control!.topLevelContext();
    const pageUrl = `https://localhost:${bin.tlsPort}/`;
    t.equal(await control!.navigate(context, pageUrl, TIMEOUT), pageUrl, `navigated to ${pageUrl}`);
    const page = await control!.evaluate(context, describePage, undefined, TIMEOUT);
    t.equal(page.httpVersion, 'HTTP/2.0', 'page was still served over HTTP/2');

    const args: EchoArgs = {
      url: `wss://localhost:${bin.tlsPort}/echo`,
      texts: [TEXT],
      binarySize: BINARY_SIZE,
      closeReason: 'firefox done (HTTP/2 WebSockets off)',
      timeoutMs: PAGE_TIMEOUT,
    };
    const from = bin.logs.length;
    const report = await runEcho(control!, context, args);
    t.equal(report.pageUrl, pageUrl, 'the WebSocket was opened by the landing page');
    checkPageReport(t, report, args);
    sessions.push(await checkServerSession(t, bin, from, 'negative control', args.closeReason, 'http/1.1'));
  });

  t.test('the server closed every session cleanly', async (t) => {
    t.equal(sessions.length, 3, 'three sessions to check');
    await Promise.all(
      sessions.map(async (s) => {
        const sameSession = (l: LogLine): boolean => l.session === s.id;
        const closed = await bin.waitForLog((l) => sameSession(l) && l.msg === 'websocket closed', {
          from: s.from,
          timeoutMs: CLOSE_TIMEOUT + TIMEOUT,
          what: `"websocket closed" for session ${String(s.id)} (${s.name})`,
        });
        t.equal(closed.clean, true, `${s.name}: session ${String(s.id)} closed cleanly`);
        t.equal(closed.code, 1000, `${s.name}: session closed with 1000`);
        t.equal(closed.reason, s.reason, `${s.name}: session closed with the page's reason`);
        const own = bin.logs.slice(s.from).filter(sameSession);
        t.notOk(
          own.some((l) => l.msg === 'peer violated the protocol' || (l.level as number) >= 40),
          `${s.name}: no protocol violation or warning`,
        );
        const timedOut = own.find((l) => l.msg === 'close timeout: aborting the transport');
        if (s.transport === 'http/1.1') {
          // Over HTTP/1.1 the server closes the TCP connection itself.
          t.notOk(timedOut, `${s.name}: closed without waiting for the close timeout`);
        } else if (timedOut) {
          const closeFrame = own.find((l) => l.msg === 'close frame received');
          t.comment(
            `${s.name} (${s.transport}): Firefox sent no END_STREAM after the close handshake; the server reset the stream ` +
              `${(timedOut.time as number) - (closeFrame?.time as number)} ms after the close frame (close timeout)`,
          );
        }
      }),
    );
  });

  t.test('the binary logged no errors and shuts down cleanly', async (t) => {
    t.notOk(
      bin.logs.some((l) => typeof l.level === 'number' && l.level >= 50),
      'no error or fatal log lines',
    );
    t.equal(await bin.stop('SIGTERM'), 0, 'exit code 0 after SIGTERM');
    t.equal(bin.stderr(), '', 'nothing on stderr');
  });
}
