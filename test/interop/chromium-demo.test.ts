/**
 * The landing page's live demo in a real browser: Debian's Chromium (through
 * playwright-core) loads the page over HTTP/1.1 and over HTTP/2, joins a chat
 * room, and the page must say which HTTP version carries its WebSocket, show
 * the open sessions per transport (an HTTP/3 member joins from Node: Chromium
 * does not use HTTP/3 for WebSockets, see /work/shared/notes/browsers.md) and
 * carry chat both ways. A screenshot of each run goes to test-artifacts/.
 *
 * No skipping: without /usr/bin/chromium this file fails (CI installs it).
 */
import { once } from 'node:events';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import t from 'tap';
import { WebSocket } from '../../src/index.js';
import { ROOT, startBinary, type RunningBinary } from '../helpers/binary.js';
import { CHROMIUM, launchChromium } from '../helpers/chromium.js';

// A browser global used inside page functions; the project compiles without the DOM lib.
declare const document: { querySelector(selector: string): { textContent: string | null } | null };

const TIMEOUT = 10_000;
const ARTIFACTS = join(ROOT, 'test-artifacts');

if (!existsSync(CHROMIUM)) {
  t.fail(`${CHROMIUM} not found: this test needs Debian's chromium (apt-get install -y chromium).`);
} else {
  let bin: RunningBinary;
  let context: BrowserContext;

  t.before(async () => {
    bin = await startBinary();
    context = await launchChromium('trident-chromium-demo-', { width: 900, height: 1100 });
    context.setDefaultTimeout(TIMEOUT);
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  t.teardown(async () => {
    try {
      await context?.close();
    } finally {
      bin?.kill();
    }
  });

  const text = (page: Page, selector: string): Promise<string | null> => page.textContent(selector);
  /** Waits until the element's text is exactly `expected` (the page updates it from its socket and its poll). */
  const waitForText = (page: Page, selector: string, expected: string): Promise<unknown> =>
    page.waitForFunction(([s, e]) => document.querySelector(s!)?.textContent === e, [selector, expected]);

  const cases = [
    { name: 'http', page: () => `http://127.0.0.1:${bin.httpPort}/`, served: 'HTTP/1.1', carried: 'HTTP/1.1', status: 101, counts: ['1', '0', '1'] },
    // Chromium uses HTTP/2 for a WebSocket over an HTTP/2 connection it already has (browsers.md).
    { name: 'https', page: () => `https://localhost:${bin.tlsPort}/`, served: 'HTTP/2.0', carried: 'HTTP/2', status: 200, counts: ['0', '1', '1'] },
  ] as const;

  for (const c of cases) {
    t.test(`${c.name}: the chat's WebSocket runs over ${c.carried}, the page shows it and the live counts`, async (t) => {
      const page = await context.newPage();
      t.teardown(() => page.close());
      const cdp = await context.newCDPSession(page);
      const statuses: number[] = [];
      cdp.on('Network.webSocketHandshakeResponseReceived', (event) => statuses.push(event.response.status));
      await cdp.send('Network.enable');

      const response = await page.goto(c.page(), { waitUntil: 'load' });
      t.equal(response?.status(), 200);
      t.equal(await text(page, '#http-version'), c.served, `the page came over ${c.served}`);

      // An HTTP/3 member of the same room, from Node.
      const room = `demo-${c.name}`;
      const member = new WebSocket(`wss://localhost:${bin.tlsPort}/chat/${room}`, { transport: 'h3', ca: bin.caPem });
      await new Promise((resolve, reject) => (member.once('open', resolve), member.once('error', reject)));
      t.teardown(() => member.terminate());

      await page.fill('#room', room);
      await page.fill('#name', 'chromium');
      await page.click('#join');
      await waitForText(page, '#ws-transport', c.carried);
      t.equal(await text(page, '#chat-room'), room);
      t.same(statuses, [c.status], `DevTools: one WebSocket handshake, answered ${c.status}`);
      await Promise.all([
        waitForText(page, '#count-http1', c.counts[0]),
        waitForText(page, '#count-h2', c.counts[1]),
        waitForText(page, '#count-h3', c.counts[2]),
      ]);
      t.pass(`counts shown: HTTP/1.1 ${c.counts[0]}, HTTP/2 ${c.counts[1]}, HTTP/3 ${c.counts[2]}`);

      const heard = once(member, 'message');
      await page.fill('#text', `hello over ${c.carried}`);
      await page.click('#send');
      t.equal(String((await heard)[0]), `chromium: hello over ${c.carried}`, 'the HTTP/3 member got the page’s message');
      member.send('hi from HTTP/3');
      await page.waitForFunction(() => document.querySelector('#log')?.textContent?.includes('hi from HTTP/3') === true);
      t.equal(await text(page, '#log'), `chromium: hello over ${c.carried}hi from HTTP/3`, 'the page shows both messages in order');

      await page.screenshot({ path: join(ARTIFACTS, `landing-demo-${c.name}.png`), fullPage: true });

      // The counts are live: the HTTP/3 member leaves, the next poll shows it.
      member.close(1000);
      await once(member, 'close');
      await waitForText(page, '#count-h3', '0');
      t.pass('the HTTP/3 count dropped to 0 after the member left');
    });
  }

  t.test('the binary logged no errors and shuts down cleanly', async (t) => {
    t.notOk(bin.logs.some((l) => typeof l.level === 'number' && l.level >= 50), 'no error or fatal log lines');
    t.equal(await bin.stop('SIGTERM'), 0);
  });
}
