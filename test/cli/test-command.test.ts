/**
 * `trident test` as a CI pipeline uses it: the built binary against our server
 * (exit 0, three report files) and against a broken one (exit 1), and usage
 * errors (exit 2).
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConformanceReport } from '../../src/conformance/report-types.js';
import { startTridentEcho } from '../conformance/trident-server.js';
import { startBrokenServer } from '../conformance/broken-servers.js';

const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

function trident(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, 'test', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const dir = mkdtempSync(join(tmpdir(), 'trident-test-cmd-'));

t.test('against our server on all three transports: exit 0 and three reports', async (t) => {
  const server = await startTridentEcho({ tls: true, http3: true });
  t.teardown(() => server.server.close());
  const ca = join(dir, 'ca.crt');
  writeFileSync(ca, server.ca!);
  const files = { json: join(dir, 'r.json'), html: join(dir, 'r.html'), junit: join(dir, 'r.xml') };
  const cases = '1.1.*,2.*,7.1.*,20.1,21.*,22.*';
  const r = await trident([`wss://127.0.0.1:${server.port}/echo`, '--ca', ca, '--cases', cases, '--quiet', '--json', files.json, '--html', files.html, '--junit', files.junit]);
  t.equal(r.code, 0, `exit 0 (stdout: ${r.stdout.slice(-500)}, stderr: ${r.stderr})`);
  const report = JSON.parse(readFileSync(files.json, 'utf8')) as ConformanceReport;
  t.equal(report.mode, 'server');
  t.equal(report.subject, `wss://127.0.0.1:${server.port}/echo`);
  t.same([...new Set(report.results.map((x) => x.transport))].sort(), ['h2', 'h3', 'http/1.1']);
  t.notOk(report.results.some((x) => x.verdict === 'FAILED'), 'no FAILED case');
  t.ok(report.results.some((x) => x.id === '20.1' && x.transport === 'http/1.1'), 'the HTTP/1.1 handshake case ran over HTTP/1.1');
  t.notOk(report.results.some((x) => x.id.startsWith('20.') && x.transport !== 'http/1.1'), 'and only there');
  const junit = readFileSync(files.junit, 'utf8');
  t.equal(junit.match(/<testcase /g)?.length, report.results.length, 'one JUnit testcase per result');
  t.match(junit, new RegExp(`<testsuites [^>]*tests="${report.results.length}" failures="0"`));
  const html = readFileSync(files.html, 'utf8');
  for (const id of new Set(report.results.map((x) => x.id))) t.ok(html.includes(`id="case-${id}"`), `HTML row for ${id}`);
});

t.test('against a server that accepts unmasked frames: exit 1, the failures listed', async (t) => {
  const server = await startBrokenServer('no-mask-check');
  t.teardown(() => server.close());
  const r = await trident([`ws://127.0.0.1:${server.port}/`, '--cases', '1.1.1,31.1.1', '--quiet']);
  t.equal(r.code, 1);
  t.match(r.stdout, /http\/1\.1: 2 cases: OK 1, NON-STRICT 0, INFORMATIONAL 0, UNIMPLEMENTED 0, FAILED 1/);
  t.match(r.stdout, /FAILED http\/1\.1 31\.1\.1 /);
});

t.test('usage errors exit 2', async (t) => {
  for (const args of [[], ['http://127.0.0.1:1/'], ['ws://127.0.0.1:1/', '--transport', 'h3'], ['ws://127.0.0.1:1/', '--transport', 'h4'], ['wss://x/', '--insecure', '--ca', '/nonexistent'], ['ws://127.0.0.1:1/', '--bogus']]) {
    const r = await trident(args);
    t.equal(r.code, 2, `${args.join(' ')} → 2`);
    t.match(r.stderr, /^trident test: /);
  }
});
