#!/usr/bin/env node
// `npm run bench:fanout`: one publisher, N subscribers (default 1,000) over
// ws:// (HTTP/1.1, no compression); trident's broker against `ws` with
// `wss.clients.forEach(send)`, in the same run, 64 B and 1 KiB messages.
// Each server is its own process pinned to core 0, this load generator to
// core 1. Rows: deliveries per second, deliveries per server CPU-second, p50
// and p99 from publish (the publisher's clock) to delivery (the subscriber's),
// and the ratio trident / ws of deliveries per CPU-second (target >= 3).
//
// The publisher keeps a window of messages in flight: a message leaves the
// window when every subscriber received it, so the rate is what the server
// sustains, not what a queue absorbs.
import { createConnection } from 'node:net';
import { randomBytes } from 'node:crypto';
import { writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ServerProcess, hasTaskset, pinSelf } from './lib/servers.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const HELP = `Usage: node scripts/bench/fanout.mjs [--quick] [--subscribers N] [--duration MS] [--runs N] [--window N] [--out FILE.md] [--cpu-prof DIR]
  --quick          300 ms warm-up, 2 s windows, 1 run per row: about 30 s in all
  --subscribers N  default 1000
  --duration MS    measurement window per run (default 4000)
  --runs N         runs per row, the median is reported (default 3)
  --window N       messages in flight (default 32)
  --out FILE.md    also write the table there (e.g. bench-results/fanout.md)
  --cpu-prof DIR   run the servers with --cpu-prof, writing the profiles into DIR`;

function parseArgs(argv) {
  const options = { quick: false, subscribers: 1000, duration: 4000, warmup: 1000, runs: 3, window: 32, out: null, cpuProf: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const next = () => {
      const value = argv[++i];
      if (value === undefined) throw new Error(`${arg} needs a value`);
      return value;
    };
    if (arg === '--quick') Object.assign(options, { quick: true, duration: 2000, warmup: 300, runs: 1 });
    else if (arg === '--subscribers') options.subscribers = Number(next());
    else if (arg === '--duration') options.duration = Number(next());
    else if (arg === '--runs') options.runs = Number(next());
    else if (arg === '--window') options.window = Number(next());
    else if (arg === '--out') options.out = next();
    else if (arg === '--cpu-prof') options.cpuProf = path.resolve(next());
    else if (arg === '--help' || arg === '-h') {
      console.log(HELP);
      process.exit(0);
    } else throw new Error(`unknown option ${arg}\n${HELP}`);
  }
  return options;
}

/** Opens a WebSocket over raw TCP (RFC 6455 §4.1); resolves with the socket and any bytes after the 101. */
function openRaw(port, pathname) {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.setNoDelay(true);
    let head = Buffer.alloc(0);
    const onData = (chunk) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      if (!head.subarray(0, 12).toString().includes('101')) return reject(new Error(`handshake refused: ${head.toString().split('\r\n')[0]}`));
      resolve({ socket, rest: head.subarray(end + 4) });
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(
      `GET ${pathname} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  });
}

/**
 * A subscriber's frame reader (server frames are unmasked, RFC 6455 §5.1):
 * calls `onMessage(payload)` per binary frame; no copies for whole frames.
 */
function frameReader(onMessage) {
  let pending = null;
  return (chunk) => {
    let buf = pending === null ? chunk : Buffer.concat([pending, chunk]);
    let offset = 0;
    while (buf.length - offset >= 2) {
      let length = buf[offset + 1] & 0x7f;
      let header = 2;
      if (length === 126) {
        if (buf.length - offset < 4) break;
        length = buf.readUInt16BE(offset + 2);
        header = 4;
      } else if (length === 127) {
        if (buf.length - offset < 10) break;
        length = Number(buf.readBigUInt64BE(offset + 2));
        header = 10;
      }
      if (buf.length - offset < header + length) break;
      if ((buf[offset] & 0x0f) === 0x2) onMessage(buf, offset + header, length);
      offset += header + length;
    }
    pending = offset === buf.length ? null : buf.subarray(offset);
  };
}

/** A masked binary frame (RFC 6455 §5.3; a zero key is still a key) carrying the send time and a sequence number. */
function publisherFrame(size, seq) {
  const header = size < 126 ? 2 : 4;
  const frame = Buffer.alloc(header + 4 + size, 0);
  frame[0] = 0x82;
  if (size < 126) frame[1] = 0x80 | size;
  else {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(size, 2);
  }
  const payload = header + 4;
  frame.writeDoubleLE(performance.timeOrigin + performance.now(), payload);
  frame.writeUInt32LE(seq, payload + 8);
  return frame;
}

async function measure(server, options, size) {
  const subscribers = [];
  const counts = new Map(); // seq -> deliveries
  let deliveries = 0;
  let recording = false;
  const latencies = [];
  let seq = 0;
  let inFlight = 0;
  let publisher;
  const sendNext = () => {
    while (inFlight < options.window) {
      inFlight++;
      publisher.write(publisherFrame(size, seq++));
    }
  };
  const onMessage = (buf, offset) => {
    const s = buf.readUInt32LE(offset + 8);
    if (recording) {
      deliveries++;
      // Every 16th delivery is timed: enough for the percentiles, cheap for the load generator.
      if ((deliveries & 15) === 0) latencies.push(performance.timeOrigin + performance.now() - buf.readDoubleLE(offset));
    }
    const n = (counts.get(s) ?? 0) + 1;
    if (n === subscribers.length) {
      counts.delete(s);
      inFlight--;
      sendNext();
    } else counts.set(s, n);
  };
  for (let i = 0; i < options.subscribers; i += 100) {
    const batch = await Promise.all(Array.from({ length: Math.min(100, options.subscribers - i) }, () => openRaw(server.port, '/')));
    for (const { socket } of batch) {
      socket.on('data', frameReader(onMessage));
      subscribers.push(socket);
    }
  }
  await server.waitConnections(options.subscribers);
  ({ socket: publisher } = await openRaw(server.port, '/publish'));
  sendNext();
  await new Promise((resolve) => setTimeout(resolve, options.warmup));
  await server.request('cpu-start');
  recording = true;
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, options.duration));
  recording = false;
  const elapsed = (performance.now() - started) / 1000;
  const cpu = await server.request('cpu-stop');
  publisher.destroy();
  for (const socket of subscribers) socket.destroy();
  latencies.sort((a, b) => a - b);
  const pick = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return { perSecond: deliveries / elapsed, perCpuSecond: deliveries / cpuSeconds, cpuCores: cpuSeconds / elapsed, p50: pick(0.5), p99: pick(0.99) };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const pinned = hasTaskset() && os.availableParallelism() >= 2 && pinSelf(1);
  const rows = [];
  for (const size of [64, 1024]) {
    const results = {};
    for (const name of ['fanout-trident', 'fanout-ws']) {
      const runs = [];
      for (let run = 0; run < options.runs; run++) {
        const server = await new ServerProcess(name, { pinCore: pinned ? 0 : null, certs: {}, cpuProfDir: options.cpuProf }).start();
        try {
          runs.push(await measure(server, options, size));
        } finally {
          await server.stop();
        }
      }
      const row = Object.fromEntries(Object.keys(runs[0]).map((key) => [key, median(runs.map((r) => r[key]))]));
      results[name] = row;
      rows.push({ name, size, ...row });
    }
    rows.at(-2).ratio = results['fanout-trident'].perCpuSecond / results['fanout-ws'].perCpuSecond;
  }
  const k = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : `${(n / 1e3).toFixed(0)} k`);
  const lines = [
    `Fan-out: 1 publisher, ${options.subscribers} subscribers, ws:// (HTTP/1.1), no compression; window ${options.window}; ` +
      `${options.runs} run(s) of ${options.duration} ms (median); ${pinned ? 'server on core 0, load generator on core 1' : 'not pinned'}; Node ${process.version}; ` +
      `load average at the end ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores (other processes' load slows the load generator, which reads every delivery)`,
    '',
    '| server | message | deliveries/s | deliveries per server CPU-s | server CPU (cores) | p50 ms | p99 ms | trident / ws per CPU-s |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.name === 'fanout-trident' ? 'trident (broker)' : 'ws (clients.forEach(send))'} | ${r.size} B | ${k(r.perSecond)} | ${k(r.perCpuSecond)} | ${r.cpuCores.toFixed(2)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`} |`,
    ),
  ];
  console.log(lines.join('\n'));
  if (options.out) {
    mkdirSync(path.dirname(path.resolve(root, options.out)), { recursive: true });
    writeFileSync(path.resolve(root, options.out), lines.join('\n') + '\n');
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
