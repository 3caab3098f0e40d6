import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer } from '../../src/index.js';

/** The limits the conformance suite is told about; the server is configured with exactly these. */
export const LIMITS = { maxMessageSize: 1024 * 1024, maxFrames: 200 };

/**
 * Corrupt DEFLATE data breaks the extension's payload transformation, which we
 * answer with 1002 like any other framing error (RFC 7692 names no code; see
 * src/protocol/deflate/per-message-deflate.ts).
 */
export const EXPECT = { invalidDeflateCloseCode: 1002, tooManyFramesCloseCode: 1009 };

/**
 * Our receiver fails on invalid UTF-8 at the first bad byte, across frames and
 * within one frame (RFC 6455 §8.1), so the 6.4 cases must be OK, not NON-STRICT.
 */
export const FAIL_FAST_UTF8 = ['6.4'];

/**
 * Our server configured as the suite's contract says: `/echo` echoes every
 * message with its type, permessage-deflate on, known limits.
 */
export async function startTridentEcho(options: { tls?: boolean; h2c?: boolean; http3?: boolean } = {}) {
  const server = new WebSocketServer({
    noServer: true,
    path: '/echo',
    perMessageDeflate: true,
    maxMessageSize: LIMITS.maxMessageSize,
    maxFramesPerMessage: LIMITS.maxFrames,
    maxHeaderSize: 16 * 1024,
  });
  server.on('connection', (ws) => {
    ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
  });
  let tls;
  let ca: Buffer | undefined;
  if (options.tls) {
    const dir = mkdtempSync(join(tmpdir(), 'trident-conf-'));
    execFileSync('sh', ['scripts/gen-certs.sh', dir]);
    tls = { cert: readFileSync(join(dir, 'server.crt')), key: readFileSync(join(dir, 'server.key')) };
    ca = readFileSync(join(dir, 'ca.crt'));
  }
  const { port } = await server.listen({ host: '127.0.0.1', port: 0, tls, h2c: options.h2c, http3: options.http3 });
  return { server, port, ca };
}
