/**
 * Client mode (`trident test --serve`): the fuzzing server driven the way
 * Autobahn's is, by this project's client over HTTP/1.1, HTTP/2 and HTTP/3, by
 * python-websockets (independent) over HTTP/1.1, and by a raw client that
 * breaks one rule at a time and must fail exactly the cases about that rule.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startFuzzingServer, type FuzzingServer } from '../../../src/conformance/serve/index.js';
import { agentFileName } from '../../../src/conformance/serve/reports.js';
import type { CaseResult, ConformanceReport, Verdict } from '../../../src/conformance/report-types.js';
import { quicAvailable } from '../../../src/index.js';
import { certFiles } from '../../helpers/interop/certs.js';
import { DEBIAN_PYTHON } from '../../helpers/interop/peers.js';
import { startPeer } from '../../helpers/interop/peer-process.js';
import { driveAll, visit } from './own-client-driver.js';
import { rawDriveAll, rawVisit, type Breakage } from './raw-echo-client.js';

const outdir = mkdtempSync(join(tmpdir(), 'trident-serve-'));
const certs = certFiles();
// Categories 12 and 13 (permessage-deflate) have their own test, deflate.test.ts, and so
// has category 9 beyond its first sizes (4–16 MiB, fragments, chops, round trips): performance.test.ts.
const cases = '1.*,2.*,3.*,4.*,5.*,6.*,7.*,9.1.1,9.1.2,9.1.3,9.2.1,9.2.2,9.2.3,10.*';
const server: FuzzingServer = await startFuzzingServer({ port: 0, tlsPort: 0, http3: quicAvailable(), cert: certs.tls.cert, key: certs.tls.key, outdir, cases });
t.teardown(() => server.close());
const caseCount = server.cases.length;

const byVerdict = (results: readonly CaseResult[]): Record<string, string[]> => {
  const out: Record<string, string[]> = {};
  for (const r of results) (out[r.verdict] ??= []).push(r.id);
  return out;
};
const ids = (results: readonly CaseResult[], verdict: Verdict): string[] => results.filter((r) => r.verdict === verdict).map((r) => r.id);
const readReport = (agent: string): ConformanceReport => JSON.parse(readFileSync(join(outdir, `${agentFileName(agent)}.json`), 'utf8')) as ConformanceReport;

t.test('the control endpoints answer as Autobahn’s do', async (t) => {
  const o = { base: `ws://127.0.0.1:${server.ports.plain}`, agent: 'x', transport: 'h1' as const };
  t.equal(await visit('/getCaseCount', o, false), String(caseCount));
  t.same(JSON.parse((await visit('/getCaseInfo?case=1', o, false))!), { id: '1.1.1', description: 'Send text message with payload of length 0.' });
  t.same(JSON.parse((await visit(`/getCaseInfo?case=${caseCount}`, o, false))!), { id: '10.1.1', description: server.cases[caseCount - 1]!.description });
  // Before the case ran there is no verdict; after it, the verdict of that run.
  t.same(JSON.parse((await visit('/getCaseStatus?case=2&agent=status', o, false))!), { behavior: 'UNIMPLEMENTED' });
  await visit('/runCase?case=2&agent=status', o, true);
  t.same(JSON.parse((await visit('/getCaseStatus?case=2&agent=status', o, false))!), { behavior: 'OK' });
});

for (const [transport, tls] of [['h1', false], ['h1', true], ['h2', true], ['h3', true]] as const) {
  t.test(`our client over ${transport}${tls ? ' (TLS port)' : ''}: every case without FAILED, a JSON report per agent`, { skip: transport === 'h3' && !quicAvailable() ? 'no QUIC on this platform' : false }, async (t) => {
    const agent = `trident-${transport}${tls ? '-tls' : ''}`;
    const base = tls ? `wss://localhost:${server.ports.tls}` : `ws://127.0.0.1:${server.ports.plain}`;
    t.equal(await driveAll({ base, agent, transport, ca: certs.ca }), caseCount);
    const report = readReport(agent);
    t.equal(report.mode, 'client');
    t.equal(report.subject, agent);
    t.equal(report.results.length, caseCount, 'one result per case');
    t.same(new Set(report.results.map((r) => r.transport)), new Set([transport === 'h1' ? 'http/1.1' : transport]));
    t.same(ids(report.results, 'FAILED'), [], 'no FAILED case');
    // INFORMATIONAL as in Autobahn: 7.1.6 (close behaviour is the implementation's) and the
    // two close codes outside RFC 6455's range.
    t.same(ids(report.results, 'INFORMATIONAL'), ['7.1.6', '7.13.1', '7.13.2']);
    t.match(report.results.find((r) => r.id === '7.1.6')!.reason, /^OK: closed with close code 1000 as expected$/, 'both messages echoed before the close');
    // Our receiver checks UTF-8 as the bytes arrive, within one frame too (RFC 6455 §8.1).
    t.same(ids(report.results, 'NON-STRICT'), [], 'no NON-STRICT case');
    t.same(report.results.filter((r) => r.id.startsWith('6.4.')).map((r) => [r.id, r.verdict]), [['6.4.1', 'OK'], ['6.4.2', 'OK'], ['6.4.3', 'OK'], ['6.4.4', 'OK']]);
    t.ok(report.results.find((r) => r.id === '9.1.3')!.reason.match(/; \d+ ms$/), 'performance cases report their time');
    t.comment(JSON.stringify(Object.fromEntries(Object.entries(byVerdict(report.results)).map(([k, v]) => [k, v.length]))));
  });
}

t.test('python-websockets (independent) drives every case over HTTP/1.1', async (t) => {
  const agent = 'python-websockets';
  const peer = startPeer(t, DEBIAN_PYTHON, [join(import.meta.dirname, 'websockets_driver.py'), `ws://127.0.0.1:${server.ports.plain}`, agent]);
  await peer.waitForLine(/^CASES \d+$/, { timeoutMs: 60_000 });
  const report = readReport(agent);
  t.equal(report.results.length, caseCount);
  t.same(ids(report.results, 'FAILED'), [], 'no FAILED case');
  t.comment(JSON.stringify(byVerdict(report.results.filter((r) => r.verdict !== 'OK'))));
});

/** Runs the raw client with one breakage through every case; returns the report's results. */
async function broken(agent: string, breakage: Breakage): Promise<readonly CaseResult[]> {
  if ((await rawDriveAll(server.ports.plain!, agent, breakage)) !== caseCount) throw new Error('wrong case count');
  const { results } = readReport(agent);
  if (results.length !== caseCount) throw new Error(`${results.length} results for ${caseCount} cases`);
  return results;
}

t.test('the raw client unbroken passes every case: the knobs below are the only difference', async (t) => {
  const results = await broken('raw-correct', {});
  t.same(ids(results, 'FAILED'), []);
  // It validates UTF-8 frame by frame (fail fast across frames, 6.4.1–2), not within a frame.
  t.same(ids(results, 'NON-STRICT'), ['6.4.3', '6.4.4']);
  t.match(results.find((r) => r.id === '6.4.3')!.reason, 'only after the whole message');
});

t.test('a client that does not mask fails every case', async (t) => {
  const results = await broken('raw-no-mask', { noMask: true });
  t.equal(ids(results, 'FAILED').length, caseCount - 3, 'all but the three INFORMATIONAL ones');
  t.ok(results.filter((r) => r.verdict === 'FAILED').every((r) => r.reason.includes('unmasked frame')));
});

t.test('a client that accepts invalid UTF-8 fails exactly the invalid UTF-8 cases', async (t) => {
  const results = await broken('raw-utf8', { acceptInvalidUtf8: true });
  // Every case whose failure may be 1007 (not the echo of a valid 1007 in 7.7.5): invalid
  // text (6.3.x and Autobahn's table) and 7.5.1's close reason.
  const invalidUtf8 = server.cases.filter((c) => c.expect.by === 'client' && c.expect.codes.includes(1007) && !c.expect.codes.includes(1000)).map((c) => c.id);
  t.ok(invalidUtf8.length > 50 && invalidUtf8.includes('6.3.1') && invalidUtf8.includes('7.5.1'), `${invalidUtf8.length} such cases`);
  t.same(ids(results, 'FAILED'), invalidUtf8);
  t.match(results.find((r) => r.id === '6.3.1')!.reason, 'text message that is not valid UTF-8');
  t.match(results.find((r) => r.id === '7.5.1')!.reason, 'closed with close code 1000, expected close code 1002 or close code 1007');
});

t.test('a client that ignores RSV bits fails exactly category 3', async (t) => {
  const results = await broken('raw-rsv', { ignoreRsv: true });
  t.same(ids(results, 'FAILED'), ['3.1', '3.2', '3.3', '3.4', '3.5', '3.6', '3.7']);
});

t.test('a client that never answers a close fails exactly the cases that need a clean closing handshake', async (t) => {
  const results = await broken('raw-drop-on-close', { dropOnClose: true });
  // Where the server closes after the echo, or sends a valid close: Autobahn's requireClean.
  const needClean = server.cases.filter((c) => c.expect.by === 'server' || (c.expect.clean === true && !c.informational)).map((c) => c.id);
  t.ok(needClean.length > 50, `${needClean.length} such cases`);
  t.same(ids(results, 'FAILED'), needClean);
  t.match(results.find((r) => r.id === '1.1.1')!.reason, 'without a close frame in answer to ours');
});

t.test('a client that never answers fails on the deadline, and the run goes on', async (t) => {
  // case 2 is 1.1.2 (echo 125 bytes): a client that connects and stays silent.
  const silent = await import('node:net').then(({ connect }) => connect(server.ports.plain!, '127.0.0.1'));
  silent.on('error', () => {});
  silent.write(`GET /runCase?case=2&agent=silent HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  await new Promise((resolve) => silent.on('close', resolve));
  await rawVisit(server.ports.plain!, '/updateReports?agent=silent');
  const [result] = readReport('silent').results;
  t.equal(result!.id, '1.1.2');
  t.equal(result!.verdict, 'FAILED');
  t.match(result!.reason, 'expected text 125 B');
});
