// docs/benchmarks.md and docs/benchmarks.svg from the report object (the same
// object written as docs/benchmarks.json). No chart library: the SVG is text.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { GROUPS, sizeLabel } from './cases.mjs';

const si = (n) => {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  const abs = Math.abs(n);
  if (abs >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (abs >= 1e4) return `${(n / 1e3).toFixed(0)}k`;
  if (abs >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  if (abs >= 100) return n.toFixed(0);
  if (abs >= 10) return n.toFixed(1);
  return n.toFixed(2);
};
const pct = (n) => (n === null || n === undefined ? '—' : `${(n * 100).toFixed(0)}%`);
const ratio = (r) => (r?.median === undefined || r?.median === null ? '—' : `${r.median.toFixed(2)}×`);
const spread = (s, f = si) => (s ? (s.n > 1 ? `${f(s.median)} (${f(s.min)}–${f(s.max)})` : f(s.median)) : '—');
const ratioSpread = (r) => (r?.median === undefined ? '—' : r.n > 1 ? `**${ratio(r)}** (${r.min.toFixed(2)}–${r.max.toFixed(2)})` : `**${ratio(r)}**`);
const shortLabel = (id) =>
  ({ 'trident-h3': 'trident h3', 'trident-h1': 'trident', 'trident-wss': 'trident', 'trident-h2': 'trident h2', 'trident-deflate': 'trident', ws: 'ws', 'ws-wss': 'ws', 'ws-deflate': 'ws', 'raw-tcp': 'raw TCP', 'raw-h2': 'raw h2' })[id] ?? id;

function echoTable(cases, report) {
  const lines = [
    '| Case | Server | msg/s | MB/s | server CPU µs/msg | server CPU | client CPU | p50 ms | p99 ms |',
    '| --- | --- | --: | --: | --: | --: | --: | --: | --: |',
  ];
  for (const c of cases) {
    let first = true;
    for (const [rowId, r] of Object.entries(c.results)) {
      const s = r.summary;
      if (!s || !s.msgsPerSec) {
        lines.push(`| ${first ? c.label : ''} | ${r.label} | failed | | | | | | |`);
        first = false;
        continue;
      }
      const saturated = (s.clientCpuPct?.max ?? 0) >= 0.9 ? ' ⚠' : '';
      lines.push(
        `| ${first ? c.label : ''} | ${report.rows[rowId].label} | ${spread(s.msgsPerSec)} | ${si(s.mbPerSec?.median)} | ${spread(s.cpuUsPerMsg)} | ` +
          `${pct(s.serverCpuPct?.median)} | ${pct(s.clientCpuPct?.median)}${saturated} | ${si(s.p50Ms?.median)} | ${spread(s.p99Ms)} |`,
      );
      first = false;
    }
    for (const p of c.ratios) {
      const x = p.ratios;
      lines.push(
        `| | ${p.info ? '' : '**'}${shortLabel(p.a)} ÷ ${shortLabel(p.b)}${p.info ? '' : '**'} | ${ratioSpread(x.msgsPerSec)} | | ${ratioSpread(x.cpuUsPerMsg)} | | | ${ratio(x.p50Ms)} | ${ratioSpread(x.p99Ms)} |`,
      );
    }
  }
  return lines.join('\n');
}

function handshakeTable(cases, report) {
  const lines = ['| Case | Server | handshakes/s | server CPU µs per handshake | server CPU | client CPU |', '| --- | --- | --: | --: | --: | --: |'];
  for (const c of cases) {
    let first = true;
    for (const [rowId, r] of Object.entries(c.results)) {
      const s = r.summary;
      const saturated = (s?.clientCpuPct?.max ?? 0) >= 0.9 ? ' ⚠' : '';
      lines.push(`| ${first ? c.label : ''} | ${report.rows[rowId].label} | ${spread(s?.perSec)} | ${spread(s?.cpuUsPerHandshake)} | ${pct(s?.serverCpuPct?.median)} | ${pct(s?.clientCpuPct?.median)}${saturated} |`);
      first = false;
    }
    for (const p of c.ratios) {
      lines.push(`| | ${p.info ? '' : '**'}${shortLabel(p.a)} ÷ ${shortLabel(p.b)}${p.info ? '' : '**'} | ${ratioSpread(p.ratios.perSec)} | ${ratioSpread(p.ratios.cpuUsPerHandshake)} | | |`);
    }
  }
  return lines.join('\n');
}

function memoryTable(cases, report) {
  const kib = (n) => (n === null || n === undefined ? '—' : (n / 1024).toFixed(2));
  const lines = ['| Case | Server | KiB per connection (RSS) | JS heap KiB per connection | external KiB per connection | connections open |', '| --- | --- | --: | --: | --: | --: |'];
  for (const c of cases) {
    let first = true;
    for (const [rowId, r] of Object.entries(c.results)) {
      const s = r.summary;
      const opened = s?.conns ? (s.conns.min === s.conns.max ? String(s.conns.median) : `${s.conns.min}–${s.conns.max}`) : '—';
      lines.push(
        `| ${first ? c.label : ''} | ${report.rows[rowId].label} | ${spread(s?.bytesPerConn, kib)} | ${kib(s?.heapBytesPerConn?.median)} | ${kib(s?.externalBytesPerConn?.median)} | ${opened} |`,
      );
      first = false;
    }
    for (const p of c.ratios) {
      lines.push(`| | ${p.info ? '' : '**'}${shortLabel(p.a)} ÷ ${shortLabel(p.b)}${p.info ? '' : '**'} | ${ratioSpread(p.ratios.bytesPerConn)} | | | |`);
    }
  }
  return lines.join('\n');
}

function receiverTable(cases, report) {
  const lines = ['| Case | Row | ms per payload | ns per byte |', '| --- | --- | --: | --: |'];
  for (const c of cases) {
    let first = true;
    for (const [rowId, r] of Object.entries(c.results)) {
      lines.push(`| ${first ? c.label : ''} | ${report.rows[rowId].label} | ${spread(r.summary?.msPerPayload)} | ${spread(r.summary?.nsPerByte)} |`);
      first = false;
    }
    for (const p of c.ratios) lines.push(`| | **1-byte ÷ one chunk** | ${ratioSpread(p.ratios.msPerPayload)} | |`);
  }
  return lines.join('\n');
}

function soakTable(cases, report) {
  const mib = (n) => (typeof n === 'number' ? (n / 2 ** 20).toFixed(1) : '—');
  const signed = (n, f) => (typeof n === 'number' ? `${n >= 0 ? '+' : ''}${f(n)}` : '—');
  const lines = [
    '| Case | Server | RSS MiB: baseline → peak → end | end − baseline (bound) | fds: baseline → peak → end | sessions opened / closed cleanly / aborted | echoes | session errors | |',
    '| --- | --- | --- | --: | --- | --: | --: | --- | --- |',
  ];
  for (const c of cases) {
    for (const [rowId, r] of Object.entries(c.results)) {
      const s = r.runs[0];
      if (!s || s.baselineRss === undefined) {
        lines.push(`| ${c.label} | ${report.rows[rowId].label} | failed | | | | | | ❌ |`);
        continue;
      }
      const errors = Object.entries(s.sessionErrors ?? {}).map(([k, v]) => `${k} ×${v}`).join(', ') || 'none';
      lines.push(
        `| ${c.label} | ${report.rows[rowId].label} | ${mib(s.baselineRss)} → ${mib(s.peakRss)} → ${mib(s.endRss)} | ${signed(s.rssDelta, mib)} (≤ +${mib(s.rssBound)}) | ` +
          `${s.baselineFds} → ${s.peakFds} → ${s.endFds} | ${s.opened} / ${s.closedClean} / ${s.aborted + (s.droppedWithConnection ?? 0)} | ${s.echoesReceived} of ${s.echoesSent} | ${errors} | ${s.pass && s.errors.length === 0 ? '✅' : '❌'} |`,
      );
    }
  }
  return lines.join('\n');
}

/**
 * The fan-out and scale rows (issue 13) come from scripts of their own, which
 * need several server processes, Redis and 1,000 subscribers: `npm run bench`
 * renders their latest tables (docs/benchmarks-fanout.md, written by
 * `npm run bench:fanout -- --out docs/benchmarks-fanout.md`, and
 * docs/benchmarks-scale.md, written by `npm run bench:scale`) into its page.
 */
const SEPARATE_ROWS = [
  { file: 'benchmarks-fanout.md', title: 'Fan-out: rooms, encode once (`npm run bench:fanout -- --out docs/benchmarks-fanout.md`)' },
  { file: 'benchmarks-scale.md', title: 'Across processes: Redis and `--workers` (`npm run bench:scale`)' },
];

/** `## …` sections for the separately generated rows found in `dir`, without their own top heading. */
export function separateRows(dir) {
  return SEPARATE_ROWS.filter(({ file }) => existsSync(path.join(dir, file))).flatMap(({ file, title }) => {
    const body = readFileSync(path.join(dir, file), 'utf8').replace(/^# .*\n+/, '').replace(/^## /gm, '### ').trim();
    return ['', `## ${title}`, '', `_From [${file}](${file}); measured separately, see there for the date and the machine's load._`, '', body];
  });
}

export function renderMarkdown(report, extraSections = []) {
  const m = report.machine;
  const o = report.options;
  const ws = report.servers?.ws;
  const out = [];
  out.push('# Benchmarks');
  out.push('');
  out.push(
    `_Generated by \`npm run bench\` (\`${report.generatedBy}\`) on ${m.date.slice(0, 10)} in ${Math.round(report.elapsedSec)} s; ` +
      'every file of this set (`benchmarks.md`, `benchmarks.json`, `benchmarks.svg`) is rewritten by that command — do not edit by hand._',
  );
  out.push('');
  out.push(
    `**Machine:** ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}; Node ${m.node}; ` +
      `${m.pinned ? 'each server process pinned to core 0 and the load generator to core 1 (taskset)' : 'processes **not** pinned'}; ` +
      `fd limit ${m.fdLimit?.soft ?? '?'}` +
      (m.git ? `; trident-ws at commit ${m.git.commit}${m.git.srcChanges ? ` with ${m.git.srcChanges} uncommitted change(s) in src/` : ''}` : '') +
      `. **Runs:** ${o.runs} per case (memory cases: ${o.memRuns ?? o.runs}, each on a fresh server), ${o.warmupMs} ms warm-up + ${o.durationMs} ms window ` +
      '(longer when one round of messages is ≥ 64 MiB). ' +
      (report.waitedForQuietSec !== undefined
        ? `Other processes on the machine: waited ${Math.round(report.waitedForQuietSec)} s for them to go quiet, re-measured disturbed windows for ${Math.round(report.retriesSec)} s. `
        : '') +
      (ws ? `**ws:** ${ws.impl}, bufferutil ${ws.nativeHelpers?.bufferutil ? 'loaded (native prebuilt)' : '**not loaded**'}, UTF-8 validation by ${ws.nativeHelpers?.utf8validate}.` : ''),
  );
  out.push('');

  // Targets.
  out.push('## Targets (issue #5)');
  out.push('');
  if (report.targets.length === 0) out.push('_No target case ran in this (partial) run._');
  else {
    const met = report.targets.filter((t) => t.pass).length;
    out.push(`**${met} of ${report.targets.length} met.** Ratios are trident ÷ reference, computed run by run (both measured in the same round), median and min–max over the runs.`);
    out.push('');
    out.push('| | Target | Measured ratio | Threshold | Note |');
    out.push('| --- | --- | --: | --: | --- |');
    for (const t of report.targets) {
      const mark = t.pass === null ? '—' : t.pass ? '✅ pass' : '❌ miss';
      const r = t.ratio;
      const measured = r.median === undefined ? '—' : `${r.median.toFixed(2)} (${r.min.toFixed(2)}–${r.max.toFixed(2)})`;
      const notes = [];
      if (t.clientBound) {
        notes.push(
          t.metric === 'msgsPerSec'
            ? 'load generator ≥ 90% of its core in a run: msg/s ratios are compressed toward 1'
            : 'load generator ≥ 90% of its core in a run',
        );
      }
      const straddles = r.median !== undefined && (t.compare === '<=' ? r.min <= t.threshold && r.max > t.threshold : r.max >= t.threshold && r.min < t.threshold);
      if (straddles) notes.push('runs fall on both sides of the threshold');
      out.push(`| ${mark} | ${t.text} | ${measured} | ${t.compare === '<=' ? '≤' : '≥'} ${shortNumber(t.threshold)} | ${notes.join('; ')} |`);
    }
  }
  out.push('');
  out.push('![trident ÷ reference for each target](benchmarks.svg)');
  out.push('');

  // Results per group.
  out.push('## Results');
  out.push('');
  out.push('Cells are the median of the runs with min–max in parentheses. ⚠ marks a load generator at ≥ 90% of its core in some run (the number is then a floor for the server).');
  out.push('');
  const byGroup = new Map();
  for (const c of report.cases) {
    if (!byGroup.has(c.group)) byGroup.set(c.group, []);
    byGroup.get(c.group).push(c);
  }
  for (const [group, cases] of byGroup) {
    out.push(`### ${GROUPS[group].title}`);
    out.push('');
    const unavailable = cases.filter((c) => c.kind === 'h3');
    for (const c of unavailable) out.push(`**${c.label}**`, '');
    if (group === 'h3' && unavailable.length === 0 && report.h3?.reason) {
      out.push(`${report.h3.reason}. Node has no QUIC client, so these rows are driven through trident's own QUIC/HTTP/3 client layer (the load generator is costlier here: see client CPU).`, '');
    }
    // One table per kind of measurement, in the order the cases came.
    const tables = { echo: echoTable, handshake: handshakeTable, memory: memoryTable, receiver: receiverTable, soak: soakTable };
    for (const [kind, table] of Object.entries(tables)) {
      const ofKind = cases.filter((c) => c.kind === kind);
      if (ofKind.length === 0) continue;
      out.push(table(ofKind, report));
      out.push('');
    }
  }
  if (!byGroup.has('h3')) {
    out.push('### HTTP/3 (RFC 9220)');
    out.push('');
    out.push(`**${report.h3?.available === false ? report.h3.reason : 'HTTP/3: not available yet'}**`);
    out.push('');
  }

  if (report.notes.length > 0 || report.failures.length > 0) {
    out.push('## Notes from this run');
    out.push('');
    for (const n of report.notes) out.push(`- ${n}`);
    for (const f of report.failures) out.push(`- **failure:** ${f.split('\n')[0]}`);
    out.push('');
  }

  out.push(HOW_TO);
  out.push(...extraSections);
  return out.join('\n') + '\n';
}

const HOW_TO = `## How to read

- **What runs.** Every server under test is its own Node process started from
  \`scripts/bench/servers/\` (trident-ws from \`dist/\`, \`ws\` 8 with bufferutil,
  a raw TCP echo and a raw \`node:http2\` stream echo), listening on 127.0.0.1
  and pinned to core 0; the load generator is pinned to core 1. The servers
  echo every message with the same type.
- **Load generator.** It sends pre-built masked frames straight over
  \`net\`/\`tls\` sockets after a hand-written Upgrade request (HTTP/2: \`node:http2\`
  extended CONNECT streams, \`:protocol websocket\`, after the server's SETTINGS
  allowed them) and counts replies by parsing frame headers incrementally. Each
  connection keeps a fixed **window** of messages in flight: 1 over a single
  connection (a pure round-trip latency measurement), 4 for 64 B and 1 KiB,
  2 for 64 KiB and 1 for 1 MiB over 100 and 1,000 connections; every reply
  sends one more. Its own CPU is the **client CPU** column: at ≥ 90% (⚠) the
  generator, not the server, may be the limit. Over HTTP/2 it lets the
  messages in flight come back before it closes the connections: Node 20's
  \`http2\` server does not notice a client that goes away while every stream
  is blocked on flow control (seen with the bare \`node:http2\` echo too).
- **msg/s** counts echoed messages over the window; **MB/s** is payload bytes
  echoed per second (one direction). **Server CPU µs/msg** is the server
  process's own \`process.cpuUsage()\` (user + system, all its threads — zlib
  included) over the window divided by the messages: the figure that does not
  depend on who saturates first. **Server CPU** near 100% means the server was
  the bottleneck. **p50/p99** are round-trip times of every message in the
  window, send to reply (with a window > 1 they include queueing).
- **Ratios** are trident ÷ the other row, computed within each run (the same
  round, seconds apart) and then summarized. For msg/s higher is better; for
  µs/msg, latency and memory lower is better.
- **Payloads.** Plain echo: random binary. permessage-deflate: JSON-like ASCII
  text sent compressed by the client (RSV1, each message independent),
  echoed by servers with their defaults: both compress replies of 1 KiB and
  more at zlib level 6 with context takeover (64 B replies go uncompressed).
- **Handshakes/s** are whole lifetimes: connect, Upgrade (or extended CONNECT
  on an open HTTP/2 connection), close frame both ways, transport closed by the
  server.
- **Memory per idle connection**: a fresh server process is warmed up, GC'd
  (\`--expose-gc\`), its RSS taken; then N connections open, each echoes one
  64-byte message and stays idle; after GC the RSS growth ÷ N is reported
  (JS heap and external memory beside it). HTTP/2: N streams, 1,000 per connection.
- **Soak** (issue 11): per transport, a fresh server process; the load
  generator opens the whole population once and closes it (warm-up), then
  reads the baseline; opens the population again and for the set time
  replaces 1% of it per second (30% aborted: TCP RST, RST_STREAM(CANCEL),
  RESET_STREAM; the rest with the close handshake) while 5% per second echo
  one 64-byte message. HTTP/2 and HTTP/3 carry the sessions as streams over
  connections of at most 500 streams (20 for 10,000), one of which is replaced every 20 s (alternately after
  closing its streams cleanly and with its streams still open). The HTTP/3 server raises
  \`maxHandshakesPerAddress\` and \`retryRatePerAddress\` to the server-wide
  1,000, since every connection of the load generator comes from 127.0.0.1.
  RSS (\`VmRSS\` of \`/proc/<pid>/status\`) and open fds (\`/proc/<pid>/fd\`)
  are read every second; baseline and end after two full GCs, the end once
  every session closed and 5 s passed. A row passes when the end RSS is
  within max(48 MiB, 10% of the baseline) of the baseline (the allocator keeps up to ~30 MiB after
  peaks of 250-300 MiB with the JS heap flat), the fds within ±2
  and the server counts no connection. Sessions opened include the warm-up;
  aborted includes streams dropped with their connection.
- **Other processes.** The machine-wide busy time (\`/proc/stat\`) is sampled
  around every window; a window in which other processes used more than a
  quarter of a core is measured again (twice at most) and the quietest attempt
  kept (\`backgroundCores\` and \`attempts\` per run in the JSON).
- **Correctness.** Before every measurement a fresh connection echoes a few
  distinct random messages that are decoded completely (reassembled,
  inflated) and compared; during the window every 64th uncompressed reply is
  compared byte for byte and every reply's length and opcode are checked. A
  crash, a mismatch or a stalled echo makes \`npm run bench\` exit non-zero.

## How to re-run

\`\`\`sh
npm run bench                                   # build, then the full matrix (~10 min) and the soak rows (~20 min); rewrites docs/benchmarks.*
npm run bench -- --quick                        # ~3-4 min subset, written to bench-results/
npm run bench -- --only echo-h1-1k-100,memory   # some cases (see --list), written to bench-results/
npm run bench -- --only soak --soak-seconds 30  # the soak rows, shorter (default 300 s each)
npm run bench -- --only echo-h1-1k-100 --profile trident      # + CPU profile of the trident server process
npm run bench -- --only echo-h2-1k-4x25 --profile trident-tls # HTTP/2 (the TLS process serves wss:// and h2)
node scripts/bench/run.mjs --help               # runs, durations, connection counts, output folder
\`\`\`

Numbers from a different machine, core count or Node version are not
comparable with these; compare ratios measured in the same run.
`;

// ---- SVG -------------------------------------------------------------------

const escapeXml = (s) => String(s).replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]);

/** A horizontal bar per target: trident ÷ reference, threshold marked, green when met. */
export function renderSvg(report) {
  const targets = report.targets.filter((t) => t.ratio?.median !== undefined);
  const rowH = 26;
  const labelW = 300;
  const chartW = 360;
  const maxRatio = Math.max(2, ...targets.map((t) => Math.min(4, t.ratio.max ?? 0)));
  const scale = chartW / maxRatio;
  const top = 74;
  const height = top + Math.max(1, targets.length) * rowH + 40;
  const width = Math.max(640, labelW + chartW + 110);
  const parts = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  parts.push(`<text x="10" y="20" font-size="15" font-weight="bold">trident-ws ÷ reference, per target of issue #5 (median of runs; whisker = min–max)</text>`);
  parts.push(`<text x="10" y="38" fill="#555">green: target met, red: missed; black tick: threshold (≤ for CPU, latency, memory; ≥ for msg/s)</text>`);
  parts.push(`<text x="10" y="54" fill="#555">${escapeXml(report.machine.cpuModel)}, ${report.machine.cores} cores, Node ${escapeXml(report.machine.node)}, ${report.machine.date.slice(0, 10)} — npm run bench</text>`);
  // Grid.
  for (let g = 0; g <= maxRatio + 1e-9; g += 0.5) {
    const x = labelW + g * scale;
    parts.push(`<line x1="${x}" y1="${top - 6}" x2="${x}" y2="${top + targets.length * rowH}" stroke="${g === 1 ? '#999' : '#e5e5e5'}" stroke-width="1"/>`);
    parts.push(`<text x="${x}" y="${top + targets.length * rowH + 16}" text-anchor="middle" fill="#555">${g.toFixed(1)}×</text>`);
  }
  targets.forEach((t, i) => {
    const y = top + i * rowH;
    const r = t.ratio;
    const color = t.pass ? '#2e9d4b' : '#d0453a';
    const w = Math.max(1, Math.min(maxRatio, r.median) * scale);
    const label = t.short ?? t.text;
    parts.push(`<text x="${labelW - 8}" y="${y + 16}" text-anchor="end">${escapeXml(label)}</text>`);
    parts.push(`<rect x="${labelW}" y="${y + 5}" width="${w.toFixed(1)}" height="${rowH - 10}" fill="${color}" opacity="0.85"/>`);
    const x1 = labelW + Math.min(maxRatio, r.min) * scale;
    const x2 = labelW + Math.min(maxRatio, r.max) * scale;
    parts.push(`<line x1="${x1.toFixed(1)}" y1="${y + rowH / 2}" x2="${x2.toFixed(1)}" y2="${y + rowH / 2}" stroke="#222" stroke-width="1.5"/>`);
    const tx = labelW + t.threshold * scale;
    parts.push(`<line x1="${tx}" y1="${y + 2}" x2="${tx}" y2="${y + rowH - 2}" stroke="#000" stroke-width="2.5"/>`);
    parts.push(`<text x="${labelW + chartW + 8}" y="${y + 16}">${r.median.toFixed(2)}× ${t.compare === '<=' ? '≤' : '≥'} ${shortNumber(t.threshold)}</text>`);
  });
  if (targets.length === 0) parts.push(`<text x="10" y="${top + 16}">No target case ran.</text>`);
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

export { sizeLabel };

/** Thresholds like 1/3 print as 0.33. */
export function shortNumber(value) {
  return String(Number(value.toFixed(2)));
}
