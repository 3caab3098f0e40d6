/**
 * Client mode's categories 12 and 13 (permessage-deflate, RFC 7692): the
 * fuzzing server negotiates per case, sends compressed series and judges the
 * echoes. Driven by this project's client (h1, h2, h3), python-websockets
 * (independent, h1), and a raw client that breaks one rule of RFC 7692 at a time.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startFuzzingServer, type FuzzingServer } from '../../../src/conformance/serve/index.js';
import { negotiateDeflate } from '../../../src/conformance/serve/deflate.js';
import { agentFileName } from '../../../src/conformance/serve/reports.js';
import type { CaseResult, ConformanceReport, Verdict } from '../../../src/conformance/report-types.js';
import { quicAvailable } from '../../../src/index.js';
import { certFiles } from '../../helpers/interop/certs.js';
import { DEBIAN_PYTHON } from '../../helpers/interop/peers.js';
import { startPeer } from '../../helpers/interop/peer-process.js';
import { driveAll } from './own-client-driver.js';
import { rawDriveAll, type Breakage } from './raw-echo-client.js';

const outdir = mkdtempSync(join(tmpdir(), 'trident-serve-deflate-'));
const certs = certFiles();
const server: FuzzingServer = await startFuzzingServer({ port: 0, tlsPort: 0, http3: quicAvailable(), cert: certs.tls.cert, key: certs.tls.key, outdir, cases: '12.*,13.*' });
t.teardown(() => server.close());
const caseCount = server.cases.length;

const ids = (results: readonly CaseResult[], verdict: Verdict): string[] => results.filter((r) => r.verdict === verdict).map((r) => r.id);
const readReport = (agent: string): ConformanceReport => JSON.parse(readFileSync(join(outdir, `${agentFileName(agent)}.json`), 'utf8')) as ConformanceReport;
const verdicts = (results: readonly CaseResult[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const r of results) out[r.verdict] = (out[r.verdict] ?? 0) + 1;
  return out;
};

t.test('negotiation: invalid offers are declined, the choices are tried in order, client_max_window_bits only when offered', async (t) => {
  t.equal(negotiateDeflate(undefined, [{}]), undefined);
  t.equal(negotiateDeflate('permessage-deflate; server_max_window_bits=16', [{}]), undefined, 'window out of range');
  t.equal(negotiateDeflate('permessage-deflate; x-unknown', [{}]), undefined, 'unknown parameter');
  t.equal(negotiateDeflate('permessage-deflate; client_no_context_takeover; client_no_context_takeover', [{}]), undefined, 'repeated parameter');
  t.equal(negotiateDeflate('permessage-deflate', [{ clientWindowBits: 9 }]), undefined, 'no client_max_window_bits in the offer');
  const fallback = [{ clientNoContextTakeover: true, clientWindowBits: 9 }, { clientNoContextTakeover: true }];
  t.same(negotiateDeflate('permessage-deflate', fallback)?.header, 'permessage-deflate; client_no_context_takeover');
  const full = negotiateDeflate('x-other, permessage-deflate; server_max_window_bits=10; client_max_window_bits', [{ serverNoContextTakeover: true, clientWindowBits: 9 }]);
  t.same(full, {
    header: 'permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9',
    params: { serverNoContextTakeover: true, clientNoContextTakeover: false, serverWindowBits: 10, clientWindowBits: 9 },
  });
  t.equal(negotiateDeflate('permessage-deflate; client_max_window_bits=8', [{ clientWindowBits: 9 }])?.params.clientWindowBits, 8, 'never above the offered value');
});

for (const [transport, tls] of [['h1', false], ['h2', true], ['h3', true]] as const) {
  t.test(`our client over ${transport}: categories 12 and 13 without FAILED`, { skip: transport === 'h3' && !quicAvailable() ? 'no QUIC on this platform' : false }, async (t) => {
    const agent = `trident-deflate-${transport}`;
    const base = tls ? `wss://localhost:${server.ports.tls}` : `ws://127.0.0.1:${server.ports.plain}`;
    t.equal(await driveAll({ base, agent, transport, ca: certs.ca, deflate: true }), caseCount);
    const { results } = readReport(agent);
    t.equal(results.length, caseCount);
    t.same(ids(results, 'FAILED'), [], 'no FAILED case');
    t.comment(JSON.stringify(verdicts(results)));
    t.equal(ids(results, 'OK').length, caseCount, 'every case OK: its offer has client_max_window_bits');
  });
}

t.test('python-websockets (independent) passes categories 12 and 13 over HTTP/1.1', async (t) => {
  const agent = 'python-websockets-deflate';
  const peer = startPeer(t, DEBIAN_PYTHON, [join(import.meta.dirname, 'websockets_driver.py'), `ws://127.0.0.1:${server.ports.plain}`, agent, 'deflate']);
  await peer.waitForLine(/^CASES \d+$/, { timeoutMs: 120_000 });
  const { results } = readReport(agent);
  t.equal(results.length, caseCount);
  t.same(ids(results, 'FAILED'), [], 'no FAILED case');
  t.comment(JSON.stringify(verdicts(results)));
  // Its default offer has client_max_window_bits: every case of 13 can be accepted.
  t.same(ids(results, 'OK').length, caseCount, 'every case OK');
});

async function raw(agent: string, breakage: Breakage): Promise<readonly CaseResult[]> {
  if ((await rawDriveAll(server.ports.plain!, agent, breakage)) !== caseCount) throw new Error('wrong case count');
  return readReport(agent).results;
}

t.test('the raw client, correct, passes every case, echoing compressed', async (t) => {
  const results = await raw('raw-deflate', { deflate: true });
  t.equal(ids(results, 'OK').length, caseCount);
  t.match(results[0]!.reason, '5 of 5 echoes compressed');
});

t.test('a client that offers no permessage-deflate gets UNIMPLEMENTED, not FAILED', async (t) => {
  const results = await raw('raw-plain', {});
  t.equal(ids(results, 'UNIMPLEMENTED').length, caseCount);
  t.match(results[0]!.reason, 'offer: none');
});

t.test('a client that sets RSV1 on continuation frames fails every case', async (t) => {
  const results = await raw('raw-rsv1-cont', { deflate: true, rsv1OnContinuation: true });
  t.equal(ids(results, 'FAILED').length, caseCount);
  t.ok(results.every((r) => r.reason.includes('RSV1 on a frame of opcode 0')));
});

t.test('a client that echoes compressed data without RSV1 fails every case', async (t) => {
  const results = await raw('raw-no-rsv1', { deflate: true, compressedWithoutRsv1: true });
  t.equal(ids(results, 'FAILED').length, caseCount);
  // Binary echoes differ from what was sent; text echoes are not even UTF-8 uncompressed.
  t.ok(results.every((r) => (r.id.startsWith('12.2.') || r.id.startsWith('12.5.') ? /^expected binary \d+ B/ : /text message that is not valid UTF-8/).test(r.reason)), 'the echo is judged as uncompressed');
});

t.test('a client that ignores client_max_window_bits=9 fails only cases that answered it, where its echoes reach further back', async (t) => {
  const results = await raw('raw-wide-window', { deflate: true, ignoreClientWindow: true });
  const failed = ids(results, 'FAILED');
  // 13.3, 13.5 and 13.7 answer client_max_window_bits=9 (a 512-byte window); a small message
  // without context takeover cannot reach that far back, a 128 KiB one does.
  t.ok(failed.every((id) => /^13\.[357]\./.test(id)), `only window-9 cases: ${failed.join(' ')}`);
  t.ok(['13.3.10', '13.5.10', '13.7.10'].every((id) => failed.includes(id)), 'the 128 KiB cases of each');
  t.match(results.find((r) => r.id === '13.3.10')!.reason, 'does not inflate under the negotiated parameters');
  t.equal(ids(results, 'OK').length, caseCount - failed.length);
});
