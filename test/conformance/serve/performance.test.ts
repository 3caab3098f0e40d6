/**
 * Client mode's category 9 (Autobahn 9.1–9.8: big messages, fragments, chops,
 * round trips): our client passes it over HTTP/1.1, HTTP/2 and HTTP/3 and
 * python-websockets over HTTP/1.1; raw clients that lose a message, truncate
 * big ones or stall fail exactly the cases they break, and a stalled client
 * fails on the deadline without holding the run.
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
import { driveAll } from './own-client-driver.js';
import { rawVisit, type Breakage } from './raw-echo-client.js';

const outdir = mkdtempSync(join(tmpdir(), 'trident-serve-perf-'));
const certs = certFiles();
const start = (cases: string, maxCaseTimeoutMs?: number): Promise<FuzzingServer> =>
  startFuzzingServer({ port: 0, tlsPort: 0, http3: quicAvailable(), cert: certs.tls.cert, key: certs.tls.key, outdir, cases, ...(maxCaseTimeoutMs ? { maxCaseTimeoutMs } : {}) });
const server = await start('9.*');
t.teardown(() => server.close());
/**
 * Over HTTP/2 and HTTP/3 a lean selection (all of category 9 there took 6–12 s
 * and 10–16 s here, the small chops of 9.5 and 9.6 most): every size of 9.1,
 * 16 MiB binary, the extreme fragment sizes, the largest chops and round trips.
 */
const LEAN = ['9.1.1', '9.1.2', '9.1.3', '9.1.4', '9.1.5', '9.1.6', '9.2.6', '9.3.1', '9.4.9', '9.5.6', '9.6.6', '9.7.6', '9.8.6'];
const lean = await start(LEAN.join(','));
t.teardown(() => lean.close());
/** The broken clients run against deadlines capped at this, so a lost round trip costs seconds, not a minute. */
const CAPPED_MS = 4000;
const capped = await start('9.*', CAPPED_MS);
t.teardown(() => capped.close());

const readReport = (agent: string): ConformanceReport => JSON.parse(readFileSync(join(outdir, `${agentFileName(agent)}.json`), 'utf8')) as ConformanceReport;
const ids = (results: readonly CaseResult[], verdict: Verdict): string[] => results.filter((r) => r.verdict === verdict).map((r) => r.id);
const all = server.cases.map((c) => c.id);

t.test('category 9 has Autobahn’s 54 cases in Autobahn’s order', async (t) => {
  const expected = [
    [1, 6],
    [2, 6],
    [3, 9],
    [4, 9],
    [5, 6],
    [6, 6],
    [7, 6],
    [8, 6],
  ].flatMap(([sub, n]) => Array.from({ length: n! }, (_, i) => `9.${sub}.${i + 1}`));
  t.same(all, expected);
  t.ok(server.cases.every((c) => c.timed && c.timeoutMs !== undefined && c.timeoutMs >= 10_000), 'every case is timed and has a deadline');
});

for (const [transport, on] of [
  ['h1', server],
  ['h2', lean],
  ['h3', lean],
] as const) {
  const what = on === server ? 'all of category 9' : 'a lean selection of category 9';
  t.test(`our client over ${transport}: ${what} without FAILED, each with its time`, { skip: transport === 'h3' && !quicAvailable() ? 'no QUIC on this platform' : false }, async (t) => {
    const agent = `trident-perf-${transport}`;
    const base = transport === 'h1' ? `ws://127.0.0.1:${on.ports.plain}` : `wss://localhost:${on.ports.tls}`;
    const started = performance.now();
    const cases = on.cases.map((c) => c.id);
    t.equal(await driveAll({ base, agent, transport, ca: certs.ca }), cases.length);
    const { results } = readReport(agent);
    t.same(results.map((r) => r.id), cases);
    t.same(ids(results, 'OK'), cases, 'every case OK');
    t.ok(results.every((r) => /; \d+ ms$/.test(r.reason)), 'every case reports its time');
    t.comment(`${transport}: ${Math.round(performance.now() - started)} ms; ${results.map((r) => `${r.id} ${r.durationMs}`).join(', ')}`);
  });
}

t.test('python-websockets (independent) over HTTP/1.1 on a few of them', async (t) => {
  const few = await start('9.1.6,9.2.6,9.3.1,9.5.1,9.7.6,9.8.1');
  t.teardown(() => few.close());
  const agent = 'python-websockets-perf';
  const peer = startPeer(t, DEBIAN_PYTHON, [join(import.meta.dirname, 'websockets_driver.py'), `ws://127.0.0.1:${few.ports.plain}`, agent]);
  await peer.waitForLine(/^CASES 6$/, { timeoutMs: 120_000 });
  const { results } = readReport(agent);
  t.same(results.map((r) => [r.id, r.verdict]), ['9.1.6', '9.2.6', '9.3.1', '9.5.1', '9.7.6', '9.8.1'].map((id) => [id, 'OK']));
});

const isRoundTrip = (id: string): boolean => /^9\.[78]\./.test(id);

/**
 * Runs the raw client with one breakage through category 9 on the capped
 * server, one case at a time; `roundTripsAtOnce`: the round trips first, all
 * at once, so lost ones wait for their deadlines side by side (the test's
 * clients share the server's event loop: only waiting overlaps well).
 */
async function broken(agent: string, breakage: Breakage, roundTripsAtOnce = false): Promise<readonly CaseResult[]> {
  const port = capped.ports.plain!;
  const run = (id: string): Promise<unknown> => rawVisit(port, `/runCase?case=${all.indexOf(id) + 1}&agent=${agent}`, breakage);
  if (roundTripsAtOnce) await Promise.all(all.filter(isRoundTrip).map(run));
  for (const id of all.filter((id) => !roundTripsAtOnce || !isRoundTrip(id))) await run(id);
  await rawVisit(port, `/updateReports?agent=${agent}`);
  return readReport(agent).results;
}

t.test('the raw client unbroken passes category 9: the knobs below are the only difference', async (t) => {
  t.same(ids(await broken('raw-perf-correct', {}), 'OK'), all);
});

t.test('a client that truncates messages above 2 MiB fails exactly the cases with bigger messages', async (t) => {
  const results = await broken('raw-perf-truncate-2m', { truncateAbove: 2 * 1024 * 1024 });
  // 9.1.4–6, 9.2.4–6 (4, 8, 16 MiB) and the 4 MiB messages of 9.3 and 9.4.
  t.same(ids(results, 'FAILED'), all.filter((id) => /^9\.[12]\.[456]$|^9\.[34]\./.test(id)));
  t.match(results.find((r) => r.id === '9.2.6')!.reason, /^expected binary 16777216 B fefefe.*, got binary 2097152 B fefefe/);
  t.ok(results.filter((r) => r.verdict === 'FAILED').every((r) => !r.observed.some((line) => line.startsWith('deadline'))), 'a truncated echo fails when it arrives, not on the deadline');
});

t.test('a client that loses every 500th message fails exactly the round trips, on their deadline', async (t) => {
  const results = await broken('raw-perf-drop-500', { dropEvery: 500 }, true);
  t.same(ids(results, 'FAILED'), all.filter(isRoundTrip));
  const lost = results.find((r) => r.id === '9.7.6')!;
  t.match(lost.reason, /^expected text 4096 B .* \(1000 messages\), got text 4096 B .* \(499 messages\)$/);
  t.ok(lost.observed.includes(`deadline of ${CAPPED_MS} ms reached`), 'decided on the deadline');
});

t.test('a client that never answers fails on the deadline, and the run goes on', async (t) => {
  const agent = 'raw-perf-silent';
  const port = capped.ports.plain!;
  // 9.1.6 (16 MiB) and 9.7.1 (the first round trip never comes back).
  await Promise.all(['9.1.6', '9.7.1'].map((id) => rawVisit(port, `/runCase?case=${all.indexOf(id) + 1}&agent=${agent}`, { silent: true })));
  t.equal(await rawVisit(port, '/getCaseCount'), String(all.length), 'still serving');
  await rawVisit(port, `/updateReports?agent=${agent}`);
  const { results } = readReport(agent);
  t.same(results.map((r) => [r.id, r.verdict]), [['9.1.6', 'FAILED'], ['9.7.1', 'FAILED']]);
  t.ok(results.every((r) => r.reason.includes('got nothing') && r.observed.includes(`deadline of ${CAPPED_MS} ms reached`)));
  t.ok(results.every((r) => r.durationMs >= CAPPED_MS && r.durationMs < CAPPED_MS + 2000), 'ended at its deadline');
});
