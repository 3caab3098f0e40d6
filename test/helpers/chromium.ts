/**
 * Debian's Chromium through playwright-core, set up as /work/shared/notes/browsers.md
 * says: headless, a fresh profile, QUIC off, and every host but loopback
 * unresolvable so it stays off the network.
 */
import { chromium, type BrowserContext } from 'playwright-core';
import { makeTempDir } from './binary.js';

export const CHROMIUM = '/usr/bin/chromium';

export function launchChromium(profilePrefix: string, viewport?: { width: number; height: number }): Promise<BrowserContext> {
  return chromium.launchPersistentContext(makeTempDir(profilePrefix), {
    executablePath: CHROMIUM,
    headless: true,
    ignoreHTTPSErrors: true,
    timeout: 20_000,
    ...(viewport ? { viewport } : {}),
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
}
