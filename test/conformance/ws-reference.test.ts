/**
 * Validates the conformance suite itself against an independent server: the
 * `ws` package's WebSocketServer with an echo handler at /echo,
 * permessage-deflate enabled and maxPayload set. A second instance behind TLS
 * (throw-away self-signed certificate made with the openssl CLI; skipped when
 * openssl is missing) checks the TLS path of the HTTP/1.1 target.
 *
 * Where ws deviates from the suite's contract, the case is listed in
 * knownDeviations: it still runs with its full assertions, but they are
 * marked TODO (visible as "not ok … # TODO" in the output, not failing the
 * run). Nothing is relaxed silently; a declared deviation that no longer
 * shows up is reported with a comment.
 */
import t from 'tap';
import { WebSocketServer } from 'ws';
import type { AddressInfo } from 'node:net';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import https from 'node:https';
import { createHttp1Target } from './http1-target.js';
import { runConformance } from './suite.js';

const MAX = 1024 * 1024;

function echo(wss: WebSocketServer): void {
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
    ws.on('error', () => {
      /* protocol errors are expected: the suite provokes them */
    });
  });
}

const wsOptions = {
  path: '/echo',
  maxPayload: MAX,
  // ws defaults otherwise: threshold 1024 bytes, context takeover allowed
  perMessageDeflate: true,
} as const;

async function listening(wss: WebSocketServer): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  return (wss.address() as AddressInfo).port;
}

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, ...wsOptions });
echo(wss);
const port = await listening(wss);
t.teardown(
  () =>
    new Promise<void>((resolve) => {
      for (const c of wss.clients) c.terminate();
      wss.close(() => resolve());
    }),
);

/** ws vs. the contract; each entry is a case id or id prefix → why */
const wsDeviations: Record<string, string> = {
  '31.2.1': 'ws does not check that the 16-bit length form is minimal (RFC 6455 §5.2: "the minimal number of bytes MUST be used")',
  '31.2.2': 'ws does not check that the 16-bit length form is minimal (RFC 6455 §5.2)',
  '31.3': 'ws does not check that the 64-bit length form is minimal (RFC 6455 §5.2)',
  '31.4': 'ws answers a 64-bit length with the most significant bit set with 1009 (as "too big") instead of 1002 (RFC 6455 §5.2: the MSB MUST be 0)',
};

const wsHandshakeDeviations: Record<string, string> = {
  '20.4.1': 'ws still speaks hybi-08: it accepts Sec-WebSocket-Version: 8 with 101 (RFC 6455 §4.2.2 lets a server support other versions)',
  '20.6': 'ws upgrades an HTTP/1.0 request (RFC 6455 §4.1 and §4.2.1 require HTTP/1.1 or higher: an RFC violation)',
};

await runConformance(t, createHttp1Target({ host: '127.0.0.1', port, name: 'ws@8 http/1.1', limits: { maxMessageSize: MAX } }), {
  knownDeviations: { ...wsDeviations, ...wsHandshakeDeviations },
});

// --- the same over TLS (a subset: framing, close handling, handshake) ------

function makeCert(): { key: Buffer; cert: Buffer } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'trident-conformance-'));
  try {
    execFileSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1',
        '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ],
      { stdio: 'ignore', timeout: 10000 },
    );
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const pem = makeCert();
if (!pem) {
  await t.test('TLS reference run', { skip: 'openssl is not available to make a throw-away certificate' }, async () => {});
} else {
  const server = https.createServer({ key: pem.key, cert: pem.cert });
  const swss = new WebSocketServer({ server, ...wsOptions });
  echo(swss);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const tlsPort = (server.address() as AddressInfo).port;
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const c of swss.clients) c.terminate();
        swss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const tlsOpts = { ca: pem.cert, servername: 'localhost' };
  await runConformance(
    t,
    createHttp1Target({ host: '127.0.0.1', port: tlsPort, tls: tlsOpts, name: 'ws@8 http/1.1+tls', limits: { maxMessageSize: MAX } }),
    { knownDeviations: wsDeviations, select: ['1.*', '7.*', '20.1', '20.2', '20.3.*', '20.9.*', '20.12'] },
  );
}
