/**
 * `runServeCommand` (behind `trident test --serve`) as a process: usage
 * errors exit 2; a run prints its URLs, serves an agent over HTTP/1.1 and
 * HTTP/2, writes the agent's JSON, HTML and JUnit reports, and exits 0 on SIGTERM.
 * Runs the built module (dist/), like the binary tests.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import t from 'tap';
import type { ConformanceReport } from '../../../src/conformance/report-types.js';
import { ROOT } from '../../helpers/binary.js';
import { certFiles } from '../../helpers/interop/certs.js';
import { driveAll } from './own-client-driver.js';

const MODULE = join(ROOT, 'dist', 'conformance', 'serve', 'index.js');
const SCRIPT = 'const m = await import(process.env.SERVE_MODULE); process.exitCode = await m.runServeCommand(process.argv.slice(1));';

function start(args: string[]) {
  const child = spawn(process.execPath, ['--input-type=module', '-e', SCRIPT, '--', ...args], { env: { ...process.env, SERVE_MODULE: MODULE }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, exited, stderr: () => stderr };
}

t.test('a bad flag is a usage error: exit 2 with the usage', async (t) => {
  const run = start(['--serve', '--port', 'nope']);
  t.equal(await run.exited, 2);
  t.match(run.stderr(), '--port must be a port number or off');
  t.match(run.stderr(), 'usage: trident test --serve');
});

t.test('serves until SIGTERM and writes the three reports of an agent', async (t) => {
  const certs = certFiles();
  const outdir = mkdtempSync(join(tmpdir(), 'trident-serve-cli-'));
  const run = start(['--serve', '--port', '0', '--tls-port', '0', '--cert', certs.certFile, '--key', certs.keyFile, '--no-http3', '--cases', '1.1.*,2.1', '--outdir', outdir]);
  t.teardown(() => {
    if (run.child.exitCode === null) run.child.kill('SIGKILL');
  });
  // Every line is read to the end (a child writing to a full pipe would block); waiters get a matching one.
  const lines: string[] = [];
  const waiters: Array<{ match: (line: string) => boolean; resolve: (line: string) => void }> = [];
  createInterface({ input: run.child.stdout }).on('line', (line) => {
    lines.push(line);
    for (const w of waiters.filter((w) => w.match(line))) w.resolve(line);
  });
  const lineMatching = (pattern: RegExp): Promise<RegExpExecArray> => {
    const seen = lines.find((line) => pattern.test(line));
    if (seen !== undefined) return Promise.resolve(pattern.exec(seen)!);
    return new Promise((resolve) => waiters.push({ match: (line) => pattern.test(line), resolve: (line) => resolve(pattern.exec(line)!) }));
  };
  const urls = { ws: (await lineMatching(/^\s+ws:\/\/127\.0\.0\.1:(\d+)/))[1], wss: (await lineMatching(/^\s+wss:\/\/127\.0\.0\.1:(\d+)/))[1] };
  t.equal(await driveAll({ base: `ws://127.0.0.1:${urls.ws}`, agent: 'cli agent', transport: 'h1' }), 9, '1.1.1–1.1.8 and 2.1');
  t.equal(await driveAll({ base: `wss://localhost:${urls.wss}`, agent: 'cli agent', transport: 'h2', ca: certs.ca }), 9);
  const report = JSON.parse(readFileSync(join(outdir, 'cli_agent.json'), 'utf8')) as ConformanceReport;
  t.equal(report.mode, 'client');
  t.equal(report.subject, 'cli agent');
  t.equal(report.results.length, 18, 'each case once per transport');
  t.same(report.results.filter((r) => r.verdict !== 'OK'), []);
  const html = readFileSync(join(outdir, 'cli_agent.html'), 'utf8');
  for (const id of ['1.1.1', '1.1.8', '2.1']) t.ok(html.includes(`>${id}<`), `the HTML has case ${id}`);
  t.match(readFileSync(join(outdir, 'cli_agent.xml'), 'utf8'), /<testsuites [^>]*tests="18" failures="0"/);
  t.ok(await lineMatching(/^cli agent {2}h2 {2}1\.1\.8 {2}OK$/), 'a line per case run');
  t.match((await lineMatching(/^reports: .*/))[0], `${join(outdir, 'cli_agent')}.{json,html,xml}`);
  run.child.kill('SIGTERM');
  t.equal(await run.exited, 0);
});
