// What is measured: the rows (a server process + how the load generator
// reaches it), the case matrix, the pairs compared in each run, and the
// targets of issue #5.
import { INTERNET_PACKETS } from './servers.mjs';
import { soakConnections } from './soak.mjs';

/** A row is one server under test as seen through one client transport. */
export const ROWS = {
  'trident-h1': { server: 'trident', transport: 'h1', label: 'trident-ws HTTP/1.1 ws://' },
  'trident-wss': { server: 'trident-tls', transport: 'h1tls', label: 'trident-ws HTTP/1.1 wss://' },
  'trident-h2': { server: 'trident-tls', transport: 'h2', label: 'trident-ws HTTP/2 (wss, h2)' },
  'trident-deflate': { server: 'trident-deflate', transport: 'h1', deflate: true, label: 'trident-ws + permessage-deflate' },
  'trident-h1-metrics': { server: 'trident-metrics', transport: 'h1', label: 'trident-ws HTTP/1.1 ws://, metrics on' },
  'trident-deflate-metrics': { server: 'trident-deflate-metrics', transport: 'h1', deflate: true, label: 'trident-ws + permessage-deflate, metrics on' },
  ws: { server: 'ws', transport: 'h1', label: 'ws 8 + bufferutil ws://' },
  'ws-wss': { server: 'ws-tls', transport: 'h1tls', label: 'ws 8 + bufferutil wss://' },
  'ws-deflate': { server: 'ws-deflate', transport: 'h1', deflate: true, label: 'ws 8 + permessage-deflate' },
  'trident-deflate-nct': { server: 'trident-deflate-nct', transport: 'h1', deflate: true, label: 'trident-ws + permessage-deflate, no context takeover' },
  'ws-deflate-nct': { server: 'ws-deflate-nct', transport: 'h1', deflate: true, label: 'ws 8 + permessage-deflate, no context takeover' },
  'raw-tcp': { server: 'raw-tcp', transport: 'h1', raw: true, label: 'raw TCP echo (transport limit)' },
  'raw-h2': { server: 'raw-h2', transport: 'h2', raw: true, label: 'raw node:http2 stream echo (HTTP/2 limit)' },
  // HTTP/3: runs when dist/ has it (h3.mjs); the HTTP/2 row beside it in the h3 cases is the reference.
  'trident-h3': { server: 'trident-h3', transport: 'h3', label: 'trident-ws HTTP/3 (QUIC)' },
  // The same with every datagram ≤ 1350 bytes as on an Internet path (the default
  // sends loopback peers 16 KiB datagrams, since the loopback MTU allows them).
  'trident-h3-1350': { server: 'trident-h3-1350', transport: 'h3', quic: INTERNET_PACKETS, label: 'trident-ws HTTP/3, 1350-byte datagrams' },
  // The soak's HTTP/3 server: per-address QUIC admission limits raised (servers.mjs).
  'trident-h3-soak': { server: 'trident-h3-soak', transport: 'h3', label: 'trident-ws HTTP/3 (QUIC), per-address limits raised' },
  // In-process micro rows: no server, no transport.
  'receiver-1-byte': { micro: true, chunkSize: 1, label: 'Receiver, 1-byte chunks' },
  'receiver-one-chunk': { micro: true, chunkSize: Infinity, label: 'Receiver, one chunk' },
};

export const KiB = 1024;
export const MiB = 1024 * 1024;

export function sizeLabel(size) {
  if (size >= MiB) return `${size / MiB} MiB`;
  if (size >= KiB) return `${size / KiB} KiB`;
  return `${size} B`;
}
const sizeId = (size) => (size >= MiB ? `${size / MiB}m` : size >= KiB ? `${size / KiB}k` : `${size}`);

/**
 * Messages in flight per connection: 1 over a single connection (a latency
 * measurement), otherwise a few so that neither side waits on the other;
 * fewer for big messages so a round stays within memory.
 */
export function windowFor(size, conns) {
  if (conns === 1) return 1;
  if (size <= 1024) return 4;
  if (size <= 64 * 1024) return 2;
  return 1;
}

/** Longer windows when one round of messages is large, so each run spans several rounds. */
export function timingFor(bytesPerRound, base) {
  if (bytesPerRound >= 512 * MiB) return { warmupMs: Math.max(base.warmupMs, 1500), durationMs: Math.max(base.durationMs, 3000) };
  if (bytesPerRound >= 64 * MiB) return { warmupMs: Math.max(base.warmupMs, 1000), durationMs: Math.max(base.durationMs, 2000) };
  return base;
}

function echoCase(group, rows, size, conns, { sessions = 1, window = windowFor(size, conns), label } = {}) {
  const streams = group === 'echo-h2' || group === 'h3';
  const shape = streams ? `${sessions}x${conns / sessions}` : String(conns);
  return {
    id: `${group}-${sizeId(size)}-${shape}`,
    group,
    kind: 'echo',
    rows,
    size,
    conns,
    sessions,
    window,
    label:
      label ??
      `${sizeLabel(size)} × ${streams ? `${conns} stream${conns > 1 ? 's' : ''} on ${sessions} connection${sessions > 1 ? 's' : ''}` : `${conns} connection${conns > 1 ? 's' : ''}`}, ${window} in flight`,
  };
}

export const GROUPS = {
  'echo-h1': {
    title: 'Echo over HTTP/1.1 (ws://)',
    pairs: [{ a: 'trident-h1', b: 'ws' }, { a: 'trident-h1', b: 'raw-tcp', info: true }],
  },
  latency: { title: 'Latency under load (HTTP/1.1 ws://, 1 in flight per connection)', pairs: [{ a: 'trident-h1', b: 'ws' }] },
  'echo-wss': { title: 'Echo over HTTP/1.1 with TLS (wss://)', pairs: [{ a: 'trident-wss', b: 'ws-wss' }] },
  'echo-h2': { title: 'Echo over HTTP/2 (RFC 8441, wss)', pairs: [{ a: 'trident-h2', b: 'raw-h2' }] },
  deflate: { title: 'Echo with permessage-deflate (ws://, JSON-like text)', pairs: [{ a: 'trident-deflate', b: 'ws-deflate' }] },
  handshake: {
    title: 'Handshakes per second (open + close handshake + transport closed)',
    pairs: [{ a: 'trident-h1', b: 'ws' }, { a: 'trident-h2', b: 'raw-h2', info: true }],
  },
  memory: {
    title: 'Memory per idle connection (server RSS growth after GC / connections)',
    pairs: [
      { a: 'trident-h1', b: 'ws' },
      { a: 'trident-deflate', b: 'ws-deflate' },
      { a: 'trident-deflate-nct', b: 'ws-deflate-nct' },
      { a: 'trident-h2', b: 'raw-h2', info: true },
    ],
  },
  receiver: {
    title: 'Frame reassembly (receiver only, in process): a masked payload from 1-byte chunks vs one chunk',
    pairs: [{ a: 'receiver-1-byte', b: 'receiver-one-chunk' }],
  },
  metrics: {
    title: 'Prometheus metrics on vs off (HTTP/1.1 ws://): the cost of the per-message counters',
    pairs: [{ a: 'trident-h1-metrics', b: 'trident-h1' }, { a: 'trident-deflate-metrics', b: 'trident-deflate' }],
  },
  soak: { title: 'Soak: a population of sessions with churn; server RSS and fds before and after', pairs: [] },
  h3: {
    title: 'HTTP/3 (RFC 9220, QUIC) beside HTTP/2 (same shapes)',
    pairs: [{ a: 'trident-h3', b: 'trident-h2' }, { a: 'trident-h3-1350', b: 'trident-h2', info: true }],
  },
};

const H1 = ['trident-h1', 'ws', 'raw-tcp'];
const H2 = ['trident-h2', 'raw-h2'];
const WSS = ['trident-wss', 'ws-wss'];
const DEFLATE = ['trident-deflate', 'ws-deflate'];

/** The full matrix (about 10 minutes on 2 cores with 3 runs, then 3 soaks of 5 minutes) or the --quick subset. */
export function buildCases({ quick, memConns, soakConns = 10000, soakSeconds = 300, h3 = { available: false, reason: 'HTTP/3: not available yet' } }) {
  const cases = [];
  const sizes = quick ? [64, KiB, 64 * KiB] : [64, KiB, 64 * KiB, MiB];
  const connCounts = quick ? [1, 100] : [1, 100, 1000];
  for (const size of sizes) {
    for (const conns of connCounts) {
      if (quick && conns === 1 && size !== KiB) continue;
      cases.push(echoCase('echo-h1', H1, size, conns));
    }
  }
  if (!quick) cases.push(echoCase('latency', H1, KiB, 100, { window: 1 }));
  for (const size of quick ? [KiB] : [KiB, 64 * KiB]) cases.push(echoCase('echo-wss', WSS, size, 100));
  for (const size of quick ? [KiB] : [64, KiB, 64 * KiB]) cases.push(echoCase('echo-h2', H2, size, 100, { sessions: 4 }));
  cases.push(echoCase('echo-h2', H2, KiB, 1, { sessions: 1 }));
  for (const size of quick ? [KiB] : [64, KiB, 64 * KiB]) cases.push(echoCase('deflate', DEFLATE, size, 100));
  for (const size of quick ? [64, KiB] : [64, KiB, 64 * KiB]) cases.push(echoCase('metrics', ['trident-h1-metrics', 'trident-h1'], size, 100));
  cases.push({ ...echoCase('metrics', ['trident-deflate-metrics', 'trident-deflate'], KiB, 100), id: 'metrics-deflate-1k-100' });

  // Issue 11 item 1: linear reassembly shows as equal ns/byte of the 1-byte row at both sizes.
  for (const size of [256 * KiB, MiB]) {
    cases.push({ id: `receiver-${sizeId(size)}`, group: 'receiver', kind: 'receiver', rows: ['receiver-1-byte', 'receiver-one-chunk'], size, label: `${sizeLabel(size)} payload` });
  }

  const handshakeModes = quick ? [['seq', 1]] : [['seq', 1], ['conc', 32]];
  for (const [mode, concurrency] of handshakeModes) {
    cases.push({
      id: `handshake-h1-${mode}`,
      group: 'handshake',
      kind: 'handshake',
      rows: H1,
      concurrency,
      label: `HTTP/1.1 ws://, ${concurrency === 1 ? 'sequential' : `${concurrency} concurrent`}`,
    });
    cases.push({
      id: `handshake-h2-${mode}`,
      group: 'handshake',
      kind: 'handshake',
      rows: H2,
      concurrency,
      label: `HTTP/2 streams on one connection, ${concurrency === 1 ? 'sequential' : `${concurrency} concurrent`}`,
    });
  }

  cases.push({ id: 'memory-h1', group: 'memory', kind: 'memory', rows: H1, conns: memConns, label: `${memConns} idle ws:// connections` });
  cases.push({ id: 'memory-h2', group: 'memory', kind: 'memory', rows: H2, conns: memConns, label: `${memConns} idle HTTP/2 streams (1,000 per connection)` });
  if (!quick) {
    cases.push({ id: 'memory-deflate', group: 'memory', kind: 'memory', rows: DEFLATE, conns: memConns, label: `${memConns} idle ws:// connections with permessage-deflate` });
    // 2 KiB messages, above the 1 KiB threshold: the server compresses its echo too, so both zlib streams exist.
    cases.push({
      id: 'memory-deflate-2k',
      group: 'memory',
      kind: 'memory',
      rows: [...DEFLATE, 'trident-deflate-nct', 'ws-deflate-nct'],
      conns: memConns,
      size: 2 * KiB,
      label: `${memConns} idle ws:// connections with permessage-deflate after one 2 KiB echo`,
    });
  }
  // Issue 11: sessions open and close for minutes; RSS and fds must come back.
  const soak = (transport, rowId, over) => ({
    id: `soak-${transport}`,
    group: 'soak',
    kind: 'soak',
    rows: [rowId],
    conns: soakConns,
    durationMs: soakSeconds * 1000,
    label: `${soakConns} sessions ${over} for ${soakSeconds} s, ${soakConns / 100}/s replaced (30% aborted), ${soakConns / 20} echoes/s`,
  });
  cases.push(soak('h1', 'trident-h1', 'over HTTP/1.1 ws://'));
  const over = soakConnections(soakConns);
  cases.push(soak('h2', 'trident-h2', `as HTTP/2 streams over ${over} TLS connections (one replaced every 20 s)`));
  if (h3.available) cases.push(soak('h3', 'trident-h3-soak', `as HTTP/3 streams over ${over} QUIC connections (one replaced every 20 s)`));
  if (!h3.available) {
    cases.push({ id: 'h3', group: 'h3', kind: 'h3', rows: ['trident-h3'], available: false, label: h3.reason });
  } else {
    const H3 = ['trident-h3', 'trident-h2'];
    const H3_BOTH_SIZES = ['trident-h3', 'trident-h3-1350', 'trident-h2'];
    cases.push({ ...echoCase('h3', H3_BOTH_SIZES, KiB, 1, { sessions: 1 }), id: 'h3-echo-1k-1x1' });
    cases.push({ ...echoCase('h3', H3_BOTH_SIZES, KiB, 100, { sessions: 4 }), id: 'h3-echo-1k-4x25' });
    if (!quick) cases.push({ ...echoCase('h3', H3_BOTH_SIZES, 64 * KiB, 100, { sessions: 4 }), id: 'h3-echo-64k-4x25' });
    // Bulk on one stream (issue #4): 1 MiB messages, several in flight so the
    // stream's flow-control window, not the round trip, sets the pace; read MB/s.
    cases.push({
      ...echoCase('h3', H3_BOTH_SIZES, MiB, 1, { sessions: 1, window: 4, label: '1 MiB × 1 stream on 1 connection, 4 in flight (bulk on one stream)' }),
      id: 'h3-bulk-1m-1x1',
    });
    cases.push({ id: 'h3-handshake-seq', group: 'h3', kind: 'handshake', rows: H3, concurrency: 1, label: 'WebSocket lifetimes on one connection, sequential' });
    cases.push({ id: 'h3-memory', group: 'h3', kind: 'memory', rows: H3, conns: memConns, label: `${memConns} idle streams (1,000 per connection)` });
  }
  return cases;
}

/** Filters by --only: comma-separated prefixes or substrings of case ids or group names. */
export function filterCases(cases, only) {
  if (!only) return cases;
  const wanted = only.split(',').map((s) => s.trim()).filter(Boolean);
  // An exact case id selects that case only; anything else matches groups, prefixes and substrings.
  const matches = (c, w) => (cases.some((x) => x.id === w) ? c.id === w : c.group === w || c.id.includes(w));
  return cases.filter((c) => wanted.some((w) => matches(c, w)));
}

/**
 * The targets of issue #5. Each names a case, a metric, the ratio and the
 * threshold; `compare` says whether the ratio must stay at most or at least it.
 */
export function targetDefinitions() {
  const t = [];
  for (const size of ['64', '1k']) {
    for (const conns of ['100', '1000']) {
      t.push({
        id: `h1-cpu-${size}-${conns}`,
        text: `HTTP/1.1 server CPU per message ≤ 0.8× ws (${size === '1k' ? '1 KiB' : '64 B'}, ${conns} connections)`,
        short: `h1 CPU/msg ${size === '1k' ? '1 KiB' : '64 B'} × ${conns} conns`,
        case: `echo-h1-${size}-${conns}`,
        a: 'trident-h1',
        b: 'ws',
        metric: 'cpuUsPerMsg',
        compare: '<=',
        threshold: 0.8,
      });
    }
  }
  for (const size of ['64k', '1m']) {
    for (const conns of ['100', '1000']) {
      t.push({
        id: `h1-tput-${size}-${conns}`,
        text: `HTTP/1.1 throughput ≥ ws (${size === '1m' ? '1 MiB' : '64 KiB'}, ${conns} connections)`,
        short: `h1 msg/s ${size === '1m' ? '1 MiB' : '64 KiB'} × ${conns} conns`,
        case: `echo-h1-${size}-${conns}`,
        a: 'trident-h1',
        b: 'ws',
        metric: 'msgsPerSec',
        compare: '>=',
        threshold: 1,
      });
    }
  }
  for (const size of ['64', '1k', '64k', '1m']) {
    t.push({
      id: `h1-p99-${size}-1`,
      text: `p99 latency ≤ ws (${{ 64: '64 B', '1k': '1 KiB', '64k': '64 KiB', '1m': '1 MiB' }[size]}, 1 connection, 1 in flight)`,
      short: `h1 p99 ${{ 64: '64 B', '1k': '1 KiB', '64k': '64 KiB', '1m': '1 MiB' }[size]} × 1 conn`,
      case: `echo-h1-${size}-1`,
      a: 'trident-h1',
      b: 'ws',
      metric: 'p99Ms',
      compare: '<=',
      threshold: 1,
    });
  }
  t.push({
    id: 'h1-p99-1k-100-load',
    text: 'p99 latency ≤ ws (1 KiB, 100 connections, 1 in flight each)',
    short: 'h1 p99 1 KiB × 100 conns, 1 in flight',
    case: 'latency-1k-100',
    a: 'trident-h1',
    b: 'ws',
    metric: 'p99Ms',
    compare: '<=',
    threshold: 1,
  });
  t.push({
    id: 'h1-memory',
    text: 'Idle memory per connection ≤ ws',
    short: 'h1 memory per idle conn',
    case: 'memory-h1',
    a: 'trident-h1',
    b: 'ws',
    metric: 'bytesPerConn',
    compare: '<=',
    threshold: 1,
  });
  for (const size of ['64', '1k', '64k']) {
    t.push({
      id: `deflate-tput-${size}`,
      text: `permessage-deflate throughput ≥ ws with deflate (${{ 64: '64 B', '1k': '1 KiB', '64k': '64 KiB' }[size]}, 100 connections)`,
      short: `deflate msg/s ${{ 64: '64 B', '1k': '1 KiB', '64k': '64 KiB' }[size]} × 100 conns`,
      case: `deflate-${size}-100`,
      a: 'trident-deflate',
      b: 'ws-deflate',
      metric: 'msgsPerSec',
      compare: '>=',
      threshold: 1,
    });
  }
  t.push({
    id: 'h2-vs-h1-wss',
    text: "HTTP/2 1 KiB over 100 streams (4×25) ≥ 70% of trident's HTTP/1.1 over 100 connections — both TLS (wss://)",
    short: 'h2 ÷ h1 wss msg/s, 1 KiB × 100',
    case: 'echo-h2-1k-4x25',
    a: 'trident-h2',
    bCase: 'echo-wss-1k-100',
    b: 'trident-wss',
    metric: 'msgsPerSec',
    compare: '>=',
    threshold: 0.7,
  });
  t.push({
    id: 'h2-vs-h1-ws',
    text: "HTTP/2 1 KiB over 100 streams (4×25) ≥ 70% of trident's HTTP/1.1 over 100 connections — against cleartext ws:// (stricter reading)",
    short: 'h2 ÷ h1 ws:// msg/s, 1 KiB × 100',
    case: 'echo-h2-1k-4x25',
    a: 'trident-h2',
    bCase: 'echo-h1-1k-100',
    b: 'trident-h1',
    metric: 'msgsPerSec',
    compare: '>=',
    threshold: 0.7,
  });
  t.push({
    id: 'h2-cpu-vs-raw',
    text: 'HTTP/2 1 KiB over 100 streams: messages per server CPU-second ≥ 0.8× the raw node:http2 stream echo',
    short: 'h2 msg per CPU-s ÷ raw node:http2',
    case: 'echo-h2-1k-4x25',
    a: 'trident-h2',
    b: 'raw-h2',
    metric: 'msgsPerCpuSec',
    compare: '>=',
    threshold: 0.8,
  });
  t.push({
    id: 'h3-bulk-vs-h2',
    text: "HTTP/3 bulk on one stream within 3× of HTTP/2's (MB/s, 1 MiB messages) — issue #4",
    short: 'h3 ÷ h2 bulk MB/s, one stream',
    case: 'h3-bulk-1m-1x1',
    a: 'trident-h3',
    b: 'trident-h2',
    metric: 'msgsPerSec',
    compare: '>=',
    threshold: 1 / 3,
  });
  t.push({
    id: 'h3-1350-bulk-vs-h2',
    text: "HTTP/3 bulk within 3× of HTTP/2's, with Internet-size (1350-byte) datagrams even on loopback (stricter reading)",
    short: 'h3 (1350 B datagrams) ÷ h2 bulk MB/s',
    case: 'h3-bulk-1m-1x1',
    a: 'trident-h3-1350',
    b: 'trident-h2',
    metric: 'msgsPerSec',
    compare: '>=',
    threshold: 1 / 3,
  });
  return t;
}
