#!/usr/bin/env node
// Scale rows (issue 13): the real `trident serve` binary as separate processes.
//   1. Fan-out through Redis: one publisher, S subscribers of /chat/<room>, in
//      one process vs split over two processes joined by Redis: deliveries/s,
//      p99 publish -> delivery, server (+ Redis) CPU per published message;
//      the difference is the cost of the Redis hop.
//   2. Workers: /echo with C connections, `--workers 2` vs one process:
//      messages/s and server CPU per message (primary and workers summed).
// CPU from /proc/<pid>/stat of the server processes. The load generator (this
// process, ws clients over HTTP/1.1 cleartext) shares the machine.
//
//   npm run build && node scripts/bench/scale.mjs [--quick] [--no-write]
// writes docs/benchmarks-scale.md (and prints the tables).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BINARY = join(ROOT, 'dist', 'cli', 'main.js');
const quick = process.argv.includes('--quick');
const write = !process.argv.includes('--no-write');
const TICK_US = 10_000; // USER_HZ = 100

const FANOUT = { subscribers: quick ? 200 : 1000, messages: quick ? 200 : 1000, sizes: [64, 1024], window: 8 };
const ECHO = { connections: quick ? 50 : 100, seconds: quick ? 3 : 8, size: 64, window: 8 };

const children = new Set();
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null) process.kill(child.pid, 'SIGKILL');
});

function cpuUs(pids) {
  let total = 0;
  for (const pid of pids) {
    try {
      // Fields after the command name (which may hold spaces): utime is the 14th field, stime the 15th.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(fields[11]) + Number(fields[12])) * TICK_US;
    } catch {
      // gone
    }
  }
  return total;
}

/** Starts `trident serve` on a free cleartext port; resolves with its port and the pids doing the work. */
async function startServer(args) {
  const child = spawn(process.execPath, [BINARY, 'serve', '--host', '127.0.0.1', '--http-port', '0', '--port', 'off', '--heartbeat', '0', '--log-level', 'info', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  const workers = Number(args[args.indexOf('--workers') + 1]) || 1;
  const pids = workers > 1 ? [child.pid] : [child.pid];
  let port = 0;
  let ready = workers > 1 ? 0 : 1;
  await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`trident exited with ${code}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      let log;
      try {
        log = JSON.parse(line);
      } catch {
        return;
      }
      if (log.msg === 'listening') port = log.port;
      if (log.msg === 'worker ready') pids.push(log.pid);
      if (log.msg === 'all workers ready' || (workers === 1 && log.msg === 'listening')) ready = 1;
      if (ready && port) resolve();
    });
  });
  return {
    port,
    pids,
    stop: async () => {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
      children.delete(child);
    },
  };
}

async function startRedis() {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'ignore'] });
  children.add(child);
  await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
    createInterface({ input: child.stdout }).on('line', (line) => line.includes('Ready to accept') && resolve());
  });
  return { url: `redis://127.0.0.1:${port}`, pid: child.pid, stop: () => (child.kill('SIGKILL'), children.delete(child)) };
}

function open(url) {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  return once(ws, 'open').then(() => ws);
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

/** One publisher, subscribers spread over `ports`; the publisher sends on ports[0]. */
async function fanout(ports, cpuPids, size) {
  const { subscribers, messages, window } = FANOUT;
  const room = `bench${Math.random().toString(36).slice(2)}`;
  const subs = [];
  for (let i = 0; i < subscribers; i++) subs.push(await open(`ws://127.0.0.1:${ports[i % ports.length]}/chat/${room}`));
  const publisher = await open(`ws://127.0.0.1:${ports[0]}/chat/${room}`);
  // Every subscriber sees one message before measuring: every process subscribed to the room.
  const warm = subs.map((ws) => once(ws, 'message'));
  publisher.send(Buffer.alloc(size));
  await Promise.all(warm);

  const delivered = new Uint32Array(messages);
  const latencies = [];
  let complete = 0;
  let sent = 0;
  let done;
  const finished = new Promise((resolve) => (done = resolve));
  const payload = Buffer.alloc(size);
  const sendNext = () => {
    payload.writeUInt32BE(sent, 0);
    payload.writeDoubleBE(performance.now(), 4);
    publisher.send(payload);
    sent++;
  };
  for (const ws of subs) {
    ws.on('message', (data) => {
      const index = data.readUInt32BE(0);
      if (index >= messages) return;
      if ((index & 7) === 0) latencies.push(performance.now() - data.readDoubleBE(4));
      if (++delivered[index] === subscribers) {
        complete++;
        if (complete === messages) done();
        else if (sent < messages) sendNext();
      }
    });
  }
  const cpuBefore = cpuUs(cpuPids);
  const start = performance.now();
  for (let i = 0; i < window; i++) sendNext();
  await finished;
  const seconds = (performance.now() - start) / 1000;
  const cpu = cpuUs(cpuPids) - cpuBefore;
  latencies.sort((a, b) => a - b);
  for (const ws of [...subs, publisher]) ws.terminate();
  return {
    deliveriesPerSec: (messages * subscribers) / seconds,
    p99Ms: percentile(latencies, 0.99),
    serverCpuUsPerMessage: cpu / messages,
    deliveriesPerCpuSec: cpu === 0 ? null : (messages * subscribers) / (cpu / 1e6),
  };
}

/** C connections echoing `size`-byte messages with `window` in flight each, for `seconds`. */
async function echo(port, cpuPids) {
  const { connections, seconds, size, window } = ECHO;
  const sockets = [];
  for (let i = 0; i < connections; i++) sockets.push(await open(`ws://127.0.0.1:${port}/echo`));
  const payload = Buffer.alloc(size);
  let count = 0;
  let running = true;
  for (const ws of sockets) {
    ws.on('message', () => {
      count++;
      if (running) ws.send(payload);
    });
  }
  const cpuBefore = cpuUs(cpuPids);
  const start = performance.now();
  for (const ws of sockets) for (let i = 0; i < window; i++) ws.send(payload);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  running = false;
  const elapsed = (performance.now() - start) / 1000;
  const cpu = cpuUs(cpuPids) - cpuBefore;
  const measured = count;
  for (const ws of sockets) ws.terminate();
  return { msgsPerSec: measured / elapsed, serverCpuUsPerMsg: cpu / measured, serverCores: cpu / 1e6 / elapsed };
}

const fmt = (n, digits = 0) => (n === null || n === undefined ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));

async function main() {
  const rows = { fanout: [], workers: [] };
  const redis = await startRedis();
  try {
    for (const size of FANOUT.sizes) {
      const single = await startServer([]);
      const one = await fanout([single.port], single.pids, size);
      await single.stop();
      const a = await startServer(['--redis', redis.url]);
      const b = await startServer(['--redis', redis.url]);
      const two = await fanout([a.port, b.port], [...a.pids, ...b.pids, redis.pid], size);
      await Promise.all([a.stop(), b.stop()]);
      rows.fanout.push({ size, one, two });
    }
  } finally {
    redis.stop();
  }
  for (const workers of [1, 2]) {
    const server = await startServer(workers === 1 ? [] : ['--workers', String(workers)]);
    rows.workers.push({ workers, ...(await echo(server.port, server.pids)) });
    await server.stop();
  }

  const lines = [
    '# Scale benchmarks (issue 13)',
    '',
    `Generated by \`node scripts/bench/scale.mjs${quick ? ' --quick' : ''}\` on ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.versions.node}.`,
    'Servers are the `trident serve` binary over ws:// (HTTP/1.1), the load generator is this script (ws clients) on the same machine;',
    'server CPU is read from /proc for the server processes (and Redis where it is in the path). One run per row: expect ±10–20 %.',
    '',
    `## Fan-out: one publisher, ${FANOUT.subscribers} subscribers, ${FANOUT.messages} messages, ${FANOUT.window} in flight`,
    '',
    '| size | setup | deliveries/s | p99 publish→delivery (ms) | server CPU µs per message | deliveries per CPU-second |',
    '| --: | --- | --: | --: | --: | --: |',
  ];
  for (const { size, one, two } of rows.fanout) {
    lines.push(`| ${size} B | one process | ${fmt(one.deliveriesPerSec)} | ${fmt(one.p99Ms, 1)} | ${fmt(one.serverCpuUsPerMessage)} | ${fmt(one.deliveriesPerCpuSec)} |`);
    lines.push(`| ${size} B | two processes + Redis (subscribers split) | ${fmt(two.deliveriesPerSec)} | ${fmt(two.p99Ms, 1)} | ${fmt(two.serverCpuUsPerMessage)} | ${fmt(two.deliveriesPerCpuSec)} |`);
    lines.push(`| ${size} B | Redis hop: extra CPU per message (both servers + Redis) | | ${fmt(two.p99Ms - one.p99Ms, 1)} | ${fmt(two.serverCpuUsPerMessage - one.serverCpuUsPerMessage)} | |`);
  }
  lines.push('', `## Workers: /echo, ${ECHO.connections} connections × ${ECHO.window} messages of ${ECHO.size} B in flight, ${ECHO.seconds} s`, '');
  lines.push('| setup | messages/s | server CPU µs per message | server cores busy |', '| --- | --: | --: | --: |');
  for (const row of rows.workers) lines.push(`| ${row.workers === 1 ? 'one process' : `--workers ${row.workers}`} | ${fmt(row.msgsPerSec)} | ${fmt(row.serverCpuUsPerMsg, 1)} | ${fmt(row.serverCores, 2)} |`);
  const [w1, w2] = rows.workers;
  lines.push('', `2 workers ÷ 1: ${fmt(w2.msgsPerSec / w1.msgsPerSec, 2)}× messages/s, ${fmt(w2.serverCpuUsPerMsg / w1.serverCpuUsPerMsg, 2)}× CPU per message.`);
  if (Math.max(w1.serverCores, w2.serverCores) < 0.9) {
    lines.push('The servers were busy less than one core: the load generator (one process on the same machine) set the pace here, not the server.');
  }
  lines.push('');
  const text = lines.join('\n');
  process.stdout.write(text);
  if (write) writeFileSync(join(ROOT, 'docs', 'benchmarks-scale.md'), text);
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${error.stack}\n`);
    process.exit(1);
  },
);
