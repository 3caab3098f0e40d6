#!/usr/bin/env node
// Diagnostics for the memory-per-idle-connection case: which objects a server
// keeps per idle WebSocket. Takes a V8 heap snapshot of a fresh server before
// and after N idle connections (each echoed one 64-byte message, as in the
// benchmark) and prints the growth per connection by constructor.
//   node scripts/bench/memory-breakdown.mjs [row=trident-h1] [connections=2000]
// Rows: trident-h1, ws, trident-h2, raw-h2, trident-deflate, ws-deflate, raw-tcp.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ROWS } from './lib/cases.mjs';
import { messagePlan } from './lib/frames.mjs';
import { Load, openConnections } from './lib/load.mjs';
import { ServerProcess, hasTaskset, pinSelf } from './lib/servers.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const rowId = process.argv[2] ?? 'trident-h1';
const conns = Number(process.argv[3] ?? 2000);
const row = ROWS[rowId];
if (!row || row.transport === 'h3') throw new Error(`unknown row ${rowId}`);

/** Self size and count per constructor name ("(closure)", "(string)"... for the rest). */
function histogram(file) {
  const snapshot = JSON.parse(readFileSync(file, 'utf8'));
  const meta = snapshot.snapshot.meta;
  const fields = meta.node_fields;
  const types = meta.node_types[0];
  const width = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const nodes = snapshot.nodes;
  const strings = snapshot.strings;
  const byName = new Map();
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + iType]];
    const name = type === 'object' || type === 'native' ? strings[nodes[i + iName]] : `(${type})`;
    const entry = byName.get(name) ?? { count: 0, size: 0 };
    entry.count++;
    entry.size += nodes[i + iSize];
    byName.set(name, entry);
  }
  return byName;
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'trident-heap-'));
const pinned = hasTaskset() && os.availableParallelism() >= 2 && pinSelf(1);
spawnSync('sh', [path.join(root, 'scripts', 'gen-certs.sh'), dir], { stdio: 'ignore' });
const server = new ServerProcess(row.server, {
  pinCore: pinned ? 0 : null,
  certs: { cert: path.join(dir, 'server.crt'), key: path.join(dir, 'server.key') },
  onCrash: (_s, description) => {
    console.error(description);
    process.exit(1);
  },
});
await server.start();
try {
  const target = { port: server.port, tls: row.transport !== 'h1', raw: Boolean(row.raw) };
  const plan = messagePlan(64, { deflate: Boolean(row.deflate) });
  const sessionsFor = (n) => Math.max(1, Math.ceil(n / 1000));
  // Warm-up, as in the benchmark, so code and pools are not counted.
  const warm = new Load(plan, { window: 1, raw: Boolean(row.raw) });
  const w = await openConnections(warm, row, target, { conns: 200, sessions: 1, deflate: Boolean(row.deflate) });
  for (const c of w.conns) c.start();
  while (warm.total < w.conns.length) await new Promise((r) => setTimeout(r, 20));
  w.close();
  await server.waitConnections(0, 10000);
  const before = (await server.request('heap-snapshot', 120000, { file: path.join(dir, 'before.heapsnapshot') })).file;
  const load = new Load(plan, { window: 1, raw: Boolean(row.raw) });
  const opened = await openConnections(load, row, target, { conns, sessions: sessionsFor(conns), deflate: Boolean(row.deflate) });
  for (const c of opened.conns) c.start();
  while (load.total < opened.conns.length) await new Promise((r) => setTimeout(r, 20));
  await server.waitConnections(conns, 10000);
  await new Promise((r) => setTimeout(r, 500));
  const after = (await server.request('heap-snapshot', 120000, { file: path.join(dir, 'after.heapsnapshot') })).file;
  const mem = await server.request('mem');
  opened.close();
  const a = histogram(before);
  const b = histogram(after);
  const rows = [];
  for (const [name, entry] of b) {
    const base = a.get(name) ?? { count: 0, size: 0 };
    const size = entry.size - base.size;
    const count = entry.count - base.count;
    if (size > 0) rows.push({ name, perConnBytes: size / conns, perConnCount: count / conns });
  }
  rows.sort((x, y) => y.perConnBytes - x.perConnBytes);
  const total = rows.reduce((n, r) => n + r.perConnBytes, 0);
  console.log(`${rowId}: JS heap growth per idle connection by constructor (${conns} connections; heap total ≈ ${(total / 1024).toFixed(2)} KiB; RSS now ${(mem.rss / 2 ** 20).toFixed(0)} MiB)`);
  console.log('  bytes/conn  objects/conn  constructor');
  for (const r of rows.slice(0, 30)) console.log(`  ${r.perConnBytes.toFixed(0).padStart(10)}  ${r.perConnCount.toFixed(2).padStart(12)}  ${r.name}`);
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
