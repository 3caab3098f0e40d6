#!/usr/bin/env node
/**
 * `npm run interop`: runs every test/interop/*.test.ts with tap (TAP reporter),
 * writes docs/interop.md from those real results, and exits with tap's status.
 *   node scripts/interop/run.mjs [--from FILE]   (--from: render a saved TAP log instead of running)
 */
import { spawn, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTap, renderReport } from './report.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Deviations seen in the cells' traffic that trident tolerates, so no cell fails or checks them. */
const DEVIATION_NOTES = [
  'haproxy 2.6, as an HTTP/2 client, sends `:scheme https` for a `ws://` client, also on its cleartext h2c hop; RFC 9110 §4.2.2 has `https` requests go over secured connections only, and RFC 8441 §5 maps `ws` to `http`. Trident does not tie `:scheme` to the connection, so the WebSockets work (nghttpx sends `:scheme http` on both hops).',
];

/** Peer behaviour worth knowing that breaks no rule (the cells pass with it). */
const NOTES = [
  'python-autobahn answers a close frame with code 1000 instead of echoing the code it received; RFC 6455 §5.5.1 only says an endpoint "typically" echoes it, so the cells accept any clean close.',
  "haproxy 2.6, as an HTTP/2 client, forwards the HTTP/1.1 client's `Sec-WebSocket-Key` and copies its `Upgrade` token as written into `:protocol` (`WebSocket` from autobahn): both allowed (RFC 8441 §5 does not forbid the key; RFC 9110 §7.8 compares protocol names case-insensitively), and trident accepts them.",
  "gorilla/websocket's compression is fixed (no context takeover both ways, no window limits), so its cells cover one parameter set.",
];

function runTap() {
  const files = readdirSync(join(root, 'test', 'interop'))
    .filter((name) => name.endsWith('.test.ts'))
    .sort()
    .map((name) => join('test', 'interop', name));
  return new Promise((resolve) => {
    const tap = spawn(join(root, 'node_modules', '.bin', 'tap'), ['-R', 'tap', ...files], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    tap.stdout.on('data', (chunk) => {
      text += chunk;
      process.stdout.write(chunk);
    });
    tap.on('close', (code) => resolve({ text, code: code ?? 1 }));
  });
}

function commit() {
  try {
    const hash = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${hash}+changes` : hash;
  } catch {
    return 'unknown';
  }
}

const from = process.argv.indexOf('--from');
const { text, code } = from > 0 ? { text: readFileSync(process.argv[from + 1], 'utf8'), code: 0 } : await runTap();
const parsed = parseTap(text);
const meta = { date: new Date().toISOString().slice(0, 10), commit: commit(), node: process.version, deviationNotes: DEVIATION_NOTES, notes: NOTES };
writeFileSync(join(root, 'docs', 'interop.md'), renderReport(parsed, meta));
const failed = parsed.cells.filter((cell) => cell.result !== 'pass' && !cell.deviation).length;
console.log(`interop: ${parsed.cells.length} cells (${failed} not passing) written to docs/interop.md`);
process.exit(code !== 0 ? code : failed > 0 ? 1 : 0);
