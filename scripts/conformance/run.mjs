#!/usr/bin/env node
/**
 * `npm run conformance`: runs `trident test` against this project's server on
 * HTTP/1.1, HTTP/2 and HTTP/3 and against independent servers (python
 * websockets, gorilla/websocket, ws), and writes docs/conformance.md from the
 * real JSON reports. Needs `npm run build` first and the Debian peers of
 * scripts/install-test-peers.sh; a peer that cannot start is listed as such.
 *   node scripts/conformance/run.mjs
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderConformanceDoc } from './report.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'trident-conformance-'));
const MAIN = join(root, 'dist', 'cli', 'main.js');

/** Starts a process that prints "READY <port>"; resolves with the port and the child. */
function startPeer(command, args, env = process.env) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${command}: no READY line within 20 s`)), 20000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = /READY (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ port: Number(m[1]), stop: () => child.kill() });
      }
    });
    child.stderr.resume();
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code} before READY`));
    });
  });
}

function runTest(url, args, name) {
  const json = join(work, `${name}.json`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, 'test', url, '--quiet', '--json', json, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('close', (code) => {
      process.stdout.write(`${name}: exit ${code}\n${out}`);
      resolve({ name, exit: code, report: JSON.parse(readFileSync(json, 'utf8')) });
    });
  });
}

const runs = [];
const unavailable = [];

// 1. trident itself, on all three transports, with its limits declared
{
  execFileSync('sh', ['scripts/gen-certs.sh', work], { cwd: root, stdio: 'ignore' });
  const { WebSocketServer } = await import(join(root, 'dist', 'index.js'));
  const LIMITS = { maxMessageSize: 16 * 1024 * 1024, maxFrames: 16384 };
  const wss = new WebSocketServer({ noServer: true, path: '/echo', perMessageDeflate: true, maxMessageSize: LIMITS.maxMessageSize, maxFramesPerMessage: LIMITS.maxFrames });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  const tls = { cert: readFileSync(join(work, 'server.crt')), key: readFileSync(join(work, 'server.key')) };
  const { port } = await wss.listen({ host: '127.0.0.1', port: 0, tls, http3: true });
  const limits = ['--max-message-size', String(LIMITS.maxMessageSize), '--max-frames', String(LIMITS.maxFrames)];
  runs.push({ subject: 'trident (this project)', ...(await runTest(`wss://127.0.0.1:${port}/echo`, ['--ca', join(work, 'ca.crt'), '--transport', 'all', ...limits], 'trident')) });
  await wss.close();
}

// 2. independent servers (HTTP/1.1 only), their limits not declared
const peers = [
  {
    subject: 'python3-websockets 10.4 (Debian)',
    name: 'python-websockets',
    start: () => startPeer('/usr/bin/python3', ['test/interop/peers/python/websockets_agent.py', 'server', '--deflate', 'on']),
  },
  {
    subject: 'gorilla/websocket 1.5.0 (Debian), EnableCompression',
    name: 'gorilla',
    note: 'The gorilla peer is the interop agent test/interop/peers/gorilla/agent.go, which reports every pong it receives as a text message "pong:<payload>" (its agent protocol): the FAILED verdicts of 2.7, 2.8, 2.9 and 27.5 come from that agent, not from gorilla/websocket. The others are gorilla\'s own: no UTF-8 validation, no check of minimal lengths, RSV1 accepted on control and continuation frames, and permessage-deflate accepted for invalid offers and without honouring server_max_window_bits (RFC 7692 §7.1.2.1).',
    start: () => {
      const bin = join(work, 'gorilla-agent');
      execFileSync('go', ['build', '-o', bin, 'test/interop/peers/gorilla/agent.go'], {
        cwd: root,
        stdio: 'inherit',
        env: { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOCACHE: join(work, 'gocache') },
      });
      return startPeer(bin, ['server', '--compress']);
    },
  },
  {
    subject: `ws ${JSON.parse(readFileSync(join(root, 'node_modules', 'ws', 'package.json'), 'utf8')).version} (npm), perMessageDeflate`,
    name: 'ws',
    start: async () => {
      const { WebSocketServer } = await import('ws');
      const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: true });
      wss.on('connection', (ws) => {
        ws.on('error', () => {});
        ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
      });
      await new Promise((resolve) => wss.once('listening', resolve));
      return { port: wss.address().port, stop: () => wss.close() };
    },
  },
];
for (const peer of peers) {
  let running;
  try {
    running = await peer.start();
  } catch (e) {
    unavailable.push(`${peer.subject}: ${e.message}`);
    continue;
  }
  try {
    runs.push({ subject: peer.subject, note: peer.note, ...(await runTest(`ws://127.0.0.1:${running.port}/echo`, ['--transport', 'h1'], peer.name)) });
  } finally {
    running.stop();
  }
}

let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
} catch {
  /* not a git checkout */
}
writeFileSync(join(root, 'docs', 'conformance.md'), renderConformanceDoc(runs, { date: new Date().toISOString().slice(0, 10), commit, node: process.version, unavailable }));
console.log(`conformance: ${runs.length} runs written to docs/conformance.md`);
process.exit(0);
