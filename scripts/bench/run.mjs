#!/usr/bin/env node
// `npm run bench`: trident-ws against ws 8 and against the raw transport
// limits, each server in its own process pinned to core 0, this load generator
// pinned to core 1. Writes docs/benchmarks.{json,md,svg} for the full matrix,
// bench-results/ for partial runs (--quick, --only). See docs/benchmarks.md.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ROWS, GROUPS, buildCases, filterCases, targetDefinitions, timingFor } from './lib/cases.mjs';
import { messagePlan } from './lib/frames.mjs';
import { h3Status } from './lib/h3.mjs';
import { runReceiver } from './lib/receiver.mjs';
import { runEcho, runHandshakes, runMemory } from './lib/load.mjs';
import { runSoak } from './lib/soak.mjs';
import { formatProfile, summarizeProfile } from './lib/profile.mjs';
import { renderMarkdown, renderSvg, separateRows, shortNumber } from './lib/report.mjs';
import { ServerProcess, hasTaskset, pinSelf } from './lib/servers.mjs';
import { pairRatio, summarizeRow } from './lib/stats.mjs';
import { backgroundCores, machineBusyUs } from './lib/system.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const HELP = `Usage: node scripts/bench/run.mjs [options]     (npm run bench -- [options])

  --quick              a 3-4 minute subset (2 runs, shorter windows, 2,000 idle connections, 30 s soaks of 2,000 sessions)
  --only a,b           only cases whose id or group matches (e.g. echo-h1-1k-100, echo-h2, memory, handshake)
  --runs N             runs per case (default 3; --quick 2)
  --duration MS        measurement window per run (default 1250; --quick 1000)
  --warmup MS          warm-up before each window (default 400; --quick 300)
  --mem-conns N        idle connections for the memory cases (default 10000; --quick 2000)
  --mem-runs N         runs of the memory cases, each on a fresh server (default 2; --quick 1; at most --runs)
  --soak-seconds N     how long each soak row churns (default 300; --quick 30)
  --soak-conns N       sessions kept open in each soak row (default 10000; --quick 2000)
  --out DIR            where partial runs write (default bench-results/)
  --write-docs         write docs/benchmarks.* even for a partial run
  --no-write           write nothing, print only
  --profile P1,P2      run these server processes with --cpu-prof (trident, trident-tls, ws, ...); prints top self time
  --no-pin             do not pin processes to cores
  --time-limit SEC     abort after this long (default 1500; --quick 600; each plus 3 × (soak seconds + 180))
  --retries N          measure a window again when other processes were busy (default 2 retries)
  --noise CORES        what counts as busy: other processes' CPU during a window (default 0.25 core)
  --retry-budget SEC   total time all those retries may take (default 60; --quick 20)
  --quiet-wait SEC     total time to wait, before measurements, for other processes to go quiet (default 120; --quick 20)
  --list               list the cases and exit
  --render FILE.json   only rewrite the .md and .svg beside an existing benchmarks.json (after a template change)
`;

function parseArgs(argv) {
  const options = { render: null, quietWait: null, memRuns: null, retries: 2, noise: 0.25, retryBudget: null, quick: false, only: null, runs: null, duration: null, warmup: null, memConns: null, soakSeconds: null, soakConns: null, out: null, writeDocs: false, write: true, profile: [], pin: true, timeLimit: null, list: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    const number = () => {
      const n = Number(value());
      if (!Number.isFinite(n) || n <= 0) throw new Error(`${arg} needs a positive number`);
      return n;
    };
    switch (arg) {
      case '--quick': options.quick = true; break;
      case '--only': options.only = value(); break;
      case '--runs': options.runs = Math.floor(number()); break;
      case '--duration': options.duration = number(); break;
      case '--warmup': options.warmup = number(); break;
      case '--mem-conns': options.memConns = Math.floor(number()); break;
      case '--mem-runs': options.memRuns = Math.floor(number()); break;
      case '--soak-seconds': options.soakSeconds = number(); break;
      case '--soak-conns': options.soakConns = Math.floor(number()); break;
      case '--out': options.out = value(); break;
      case '--write-docs': options.writeDocs = true; break;
      case '--no-write': options.write = false; break;
      case '--profile': options.profile = value().split(',').filter(Boolean); break;
      case '--no-pin': options.pin = false; break;
      case '--time-limit': options.timeLimit = number(); break;
      case '--list': options.list = true; break;
      case '--render': options.render = value(); break;
      case '--retries': options.retries = Math.floor(Number(value())); break;
      case '--noise': options.noise = number(); break;
      case '--retry-budget': options.retryBudget = Number(value()); break;
      case '--quiet-wait': options.quietWait = Number(value()); break;
      case '-h':
      case '--help':
        process.stdout.write(HELP);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${arg}\n\n${HELP}`);
    }
  }
  options.runs ??= options.quick ? 2 : 3;
  options.duration ??= options.quick ? 1000 : 1250;
  options.warmup ??= options.quick ? 300 : 400;
  options.memConns ??= options.quick ? 2000 : 10000;
  options.memRuns = Math.min(options.runs, options.memRuns ?? (options.quick ? 1 : 2));
  options.soakSeconds ??= options.quick ? 30 : 300;
  options.soakConns ??= options.quick ? 2000 : 10000;
  // Each of the three soak rows churns for --soak-seconds, plus its fill, warm-up and settling.
  options.timeLimit ??= (options.quick ? 600 : 1500) + 3 * (options.soakSeconds + 180);
  options.retryBudget ??= options.quick ? 20 : 60;
  options.quietWait ??= options.quick ? 20 : 120;
  options.partial = options.quick || options.only !== null || options.profile.length > 0;
  return options;
}

function fdLimits() {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const [soft, hard] = line.trim().split(/\s{2,}/).slice(1, 3);
    return { soft: Number(soft) || soft, hard: Number(hard) || hard };
  } catch {
    return null;
  }
}

function machineInfo(pinned) {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    date: new Date().toISOString(),
    pinned,
    fdLimit: fdLimits(),
    // What was measured: the commit, and whether src/ had uncommitted changes when dist/ was built.
    git: (() => {
      const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' });
      const dirty = spawnSync('git', ['status', '--porcelain', '--', 'src'], { cwd: root, encoding: 'utf8' });
      return head.status === 0 ? { commit: head.stdout.trim(), srcChanges: dirty.stdout.split('\n').filter(Boolean).length } : null;
    })(),
    portRange: (() => {
      try {
        return readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().replace(/\s+/, '-');
      } catch {
        return null;
      }
    })(),
  };
}

const fmt = (n, digits = 1) => (n === null || n === undefined ? '—' : n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e4 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(digits));

async function main() {
  const options = parseArgs(process.argv.slice(2));
  if (options.render) {
    const file = path.resolve(options.render);
    const report = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(path.join(path.dirname(file), 'benchmarks.md'), renderMarkdown(report, separateRows(path.dirname(file))));
    writeFileSync(path.join(path.dirname(file), 'benchmarks.svg'), renderSvg(report));
    console.log(`bench: rendered ${path.relative(root, path.dirname(file)) || '.'}/benchmarks.{md,svg} from ${path.basename(file)}`);
    return 0;
  }
  const h3 = await h3Status();
  const allCases = buildCases({ quick: options.quick, memConns: options.memConns, soakConns: options.soakConns, soakSeconds: options.soakSeconds, h3 });
  const cases = filterCases(allCases, options.only);
  if (options.list) {
    for (const c of allCases) console.log(`${c.id.padEnd(22)} ${c.group.padEnd(10)} ${c.rows.join(', ').padEnd(34)} ${c.label}`);
    return 0;
  }
  if (cases.length === 0) throw new Error(`--only ${options.only} matches no case (see --list)`);
  if (!existsSync(path.join(root, 'dist', 'index.js'))) throw new Error('dist/index.js is missing: run `npm run build` first');

  const started = performance.now();
  const watchdog = setTimeout(() => {
    console.error(`\nbench: time limit of ${options.timeLimit} s reached, aborting`);
    killAll();
    process.exit(2);
  }, options.timeLimit * 1000);
  watchdog.unref();

  const pinned = options.pin && hasTaskset() && os.availableParallelism() >= 2 && pinSelf(1);
  const machine = machineInfo(pinned);
  console.log(
    `bench: ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}; ` +
      (pinned ? 'servers pinned to core 0, load generator to core 1' : 'processes NOT pinned (no taskset or one core)') +
      `; ${options.runs} runs, ${options.warmup} ms warm-up + ${options.duration} ms per window; fd limit ${machine.fdLimit?.soft}`,
  );

  // Development certificates for the wss/h2 servers, made for this run only.
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'trident-bench-'));
  process.on('exit', () => rmSync(workDir, { recursive: true, force: true }));
  let certs = null;
  const gen = spawnSync('sh', [path.join(root, 'scripts', 'gen-certs.sh'), workDir], { encoding: 'utf8' });
  if (gen.status === 0) certs = { cert: path.join(workDir, 'server.crt'), key: path.join(workDir, 'server.key') };
  else console.warn(`bench: no certificates (${(gen.stderr || gen.stdout).trim()}): TLS and HTTP/2 rows are skipped`);

  const failures = [];
  const notes = [];
  const outDir = options.write ? (options.partial && !options.writeDocs ? path.resolve(root, options.out ?? 'bench-results') : path.join(root, 'docs')) : null;
  const profileDir = options.profile.length > 0 ? path.resolve(root, options.out ?? 'bench-results', 'profiles') : null;

  const live = new Map();
  const serverInfo = {};
  const spawnServer = async (name, { profile = false } = {}) => {
    const server = new ServerProcess(name, {
      pinCore: pinned ? 0 : null,
      certs,
      cpuProfDir: profile ? profileDir : undefined,
      onCrash: (_server, description) => {
        failures.push(`server crashed: ${description}`);
        console.error(`\nbench: SERVER CRASHED: ${description}`);
      },
    });
    allServers.add(server);
    await server.start();
    serverInfo[name] = { ...server.info, type: undefined, port: undefined, pid: undefined };
    return server;
  };
  const getServer = async (name) => {
    let server = live.get(name);
    if (server && !server.exited) return server;
    server = await spawnServer(name, { profile: options.profile.includes(name) });
    live.set(name, server);
    return server;
  };
  const rowUsable = (rowId) => {
    const row = ROWS[rowId];
    if (row.micro) return true;
    if (row.transport === 'h3' && !h3.available) return false;
    if ((row.transport !== 'h1' || row.server.endsWith('tls')) && certs === null) return false;
    return true;
  };

  // results[caseId][rowId] = [run0, run1, ...]
  const results = {};
  const record = (c, rowId, run, value) => {
    ((results[c.id] ??= {})[rowId] ??= [])[run] = value;
  };

  const measureCases = cases.filter((c) => c.kind === 'echo' || c.kind === 'handshake' || c.kind === 'receiver');
  const memoryCases = cases.filter((c) => c.kind === 'memory');
  const soakCases = cases.filter((c) => c.kind === 'soak');
  const total =
    options.runs * measureCases.reduce((n, c) => n + c.rows.filter(rowUsable).length, 0) +
    options.memRuns * memoryCases.reduce((n, c) => n + c.rows.filter(rowUsable).length, 0) +
    soakCases.reduce((n, c) => n + c.rows.filter(rowUsable).length, 0);
  let done = 0;
  const progress = (run, c, rowId, text) => {
    done++;
    const elapsed = ((performance.now() - started) / 1000).toFixed(0);
    console.log(`[${String(done).padStart(3)}/${total} ${elapsed.padStart(4)}s] run ${run + 1} ${c.id.padEnd(20)} ${rowId.padEnd(16)} ${text}`);
  };

  const noisyRuns = [];
  // Before a measurement (while this process and the servers are idle), wait for other
  // processes to calm down, within one time budget for the whole run.
  let quietWaitMs = 0;
  const waitQuiet = async () => {
    for (;;) {
      const before = machineBusyUs();
      const t0 = performance.now();
      await sleep(150);
      const other = backgroundCores(before, machineBusyUs(), 0, performance.now() - t0);
      if (other === null || other <= options.noise || quietWaitMs >= options.quietWait * 1000) return;
      await sleep(750);
      quietWaitMs += 1000;
    }
  };
  // Retries of noisy windows share one time budget: on a machine that stays busy they stop.
  let retrySpentMs = 0;
  const measure = async (c, row) => {
    if (c.kind === 'receiver') {
      return runReceiver({ root, size: c.size, chunkSize: Math.min(row.chunkSize, c.size + 14), warmupMs: options.warmup, durationMs: options.duration });
    }
    const server = await getServer(row.server);
    const target = { port: server.port, tls: row.transport !== 'h1', raw: Boolean(row.raw) };
    if (c.kind === 'echo') {
      const timing = timingFor(c.size * c.conns * c.window, { warmupMs: options.warmup, durationMs: options.duration });
      c.timing = timing;
      const phases = {};
      const t0 = performance.now();
      const result = await runEcho({
        phases,
        row,
        server,
        target,
        size: c.size,
        conns: c.conns,
        sessions: c.sessions,
        window: c.window,
        ...timing,
        plan: messagePlan(c.size, { deflate: Boolean(row.deflate) }),
        verifyCount: c.size >= 1024 * 1024 ? 2 : 4,
      });
      result.phases = { ...phases, setupMs: result.setupMs, totalMs: performance.now() - t0 };
      return result;
    }
    return runHandshakes({ row, server, target, concurrency: c.concurrency, durationMs: options.duration, warmupMs: Math.min(300, options.warmup) });
  };

  // Echo first (every run), then memory, then handshakes: the handshake cases leave tens of
  // thousands of TIME_WAIT sockets for a minute, which measurably slows loopback TCP.
  const echoCases = measureCases.filter((c) => c.kind === 'echo' || c.kind === 'receiver');
  const handshakeCases = measureCases.filter((c) => c.kind === 'handshake');
  const measureRun = async (run, c) => {
    const rows = c.rows.filter(rowUsable);
    // Rotate the order every run so no server always goes first.
    const ordered = rows.map((_, i) => rows[(i + run) % rows.length]);
    for (const rowId of ordered) {
      const row = ROWS[rowId];
      let result;
      try {
        // Other processes on the machine distort a window: retry noisy ones, keep the quietest.
        for (let attempt = 1; ; attempt++) {
          await waitQuiet();
          const attemptStart = performance.now();
          const attemptResult = await measure(c, row);
          if (attempt > 1) retrySpentMs += performance.now() - attemptStart;
          attemptResult.attempts = attempt;
          if (!result || (attemptResult.backgroundCores ?? 0) < (result.backgroundCores ?? 0)) result = attemptResult;
          const noisy = (attemptResult.backgroundCores ?? 0) > options.noise;
          const budgetLeft = retrySpentMs < options.retryBudget * 1000;
          if (!noisy || attempt > options.retries || !budgetLeft || (attemptResult.errors?.length ?? 0) > 0) break;
          console.log(`      (other processes used ${attemptResult.backgroundCores.toFixed(2)} cores during the window: measuring again)`);
          await sleep(500);
          retrySpentMs += 500;
        }
        const bg = result.backgroundCores === null || result.backgroundCores === undefined ? '' : `  bg ${result.backgroundCores.toFixed(2)}`;
        const warn = result.clientCpuPct >= 0.9 ? '  ⚠ load generator saturated its core' : '';
        if (c.kind === 'receiver') {
          progress(run, c, rowId, `${fmt(result.msPerPayload, 3)} ms per payload  ${fmt(result.nsPerByte, 2)} ns/byte  (${result.chunks} chunks)`);
        } else if (c.kind === 'echo') {
          progress(run, c, rowId, `${fmt(result.msgsPerSec)} msg/s  ${fmt(result.cpuUsPerMsg, 2)} µs/msg  p50 ${fmt(result.p50Ms, 2)} p99 ${fmt(result.p99Ms, 2)} ms  server ${(result.serverCpuPct * 100).toFixed(0)}% client ${(result.clientCpuPct * 100).toFixed(0)}%${bg}${warn}`);
        } else {
          progress(run, c, rowId, `${fmt(result.perSec)} handshakes/s  ${fmt(result.cpuUsPerHandshake, 1)} µs each  server ${(result.serverCpuPct * 100).toFixed(0)}% client ${(result.clientCpuPct * 100).toFixed(0)}%${bg}${warn}`);
        }
        if ((result.backgroundCores ?? 0) > options.noise) noisyRuns.push(`${c.id} ${rowId} run ${run + 1}: ${result.backgroundCores.toFixed(2)} cores used by other processes`);
      } catch (error) {
        result = { errors: [String(error?.stack ?? error)] };
        progress(run, c, rowId, `FAILED: ${error?.message ?? error}`);
      }
      for (const message of result.errors ?? []) failures.push(`${c.id} ${rowId} run ${run + 1}: ${message}`);
      record(c, rowId, run, result);
    }
  };
  // Memory and soak rows: each on a fresh server, so that only this row's connections are in its memory.
  const freshServerRun = async (run, c, measureRow) => {
    for (const rowId of c.rows.filter(rowUsable)) {
      const row = ROWS[rowId];
      let result;
      let server = null;
      try {
        await waitQuiet();
        server = await spawnServer(row.server);
        const target = { port: server.port, tls: row.transport !== 'h1', raw: Boolean(row.raw) };
        let text;
        ({ result, text } = await measureRow(c, row, server, target, rowId));
        progress(run, c, rowId, text);
      } catch (error) {
        result = { errors: [String(error?.stack ?? error)] };
        progress(run, c, rowId, `FAILED: ${error?.message ?? error}`);
      } finally {
        await server?.stop();
        if (server) allServers.delete(server);
      }
      for (const message of result.errors ?? []) failures.push(`${c.id} ${rowId} run ${run + 1}: ${message}`);
      record(c, rowId, run, result);
    }
  };
  const measureMemory = async (c, row, server, target, rowId) => {
    const result = await runMemory({ row, server, target, conns: c.conns, size: c.size });
    if (result.conns < result.requested) notes.push(`${c.id} ${rowId}: ${result.requested} connections requested, ${result.conns} opened (${result.limitError})`);
    return { result, text: `${fmt(result.bytesPerConn / 1024, 2)} KiB per connection (RSS), heap ${fmt(result.heapBytesPerConn / 1024, 2)} KiB, ${result.conns} connections` };
  };
  const measureSoak = async (c, row, server, target) => {
    const result = await runSoak({
      row,
      server,
      target,
      population: c.conns,
      durationMs: c.durationMs,
      churnPerSec: c.conns / 100,
      echoPerSec: c.conns / 20,
      onProgress: (text) => console.log(`      ${c.id}: ${text}`),
    });
    const mib = (bytes) => (bytes / 2 ** 20).toFixed(1);
    const text =
      `${result.pass ? 'PASS' : 'FAIL'}  RSS ${mib(result.baselineRss)} → peak ${mib(result.peakRss)} → end ${mib(result.endRss)} MiB ` +
      `(${result.rssDelta >= 0 ? '+' : ''}${mib(result.rssDelta)}, bound +${mib(result.rssBound)}; heap ${mib(result.baselineHeap)} → ${mib(result.endHeap)}, ` +
      `external ${mib(result.baselineExternal)} → ${mib(result.endExternal)}), fds ${result.baselineFds} → peak ${result.peakFds} → end ${result.endFds}; ` +
      `${result.opened} opened, ${result.closedClean} closed cleanly, ${result.aborted} aborted`;
    return { result, text };
  };
  for (let run = 0; run < options.runs; run++) for (const c of echoCases) await measureRun(run, c);
  for (let run = 0; run < options.memRuns; run++) for (const c of memoryCases) await freshServerRun(run, c, measureMemory);
  for (let run = 0; run < options.runs; run++) for (const c of handshakeCases) await measureRun(run, c);
  // Last: the soak leaves many closed TCP connections in TIME_WAIT behind it.
  // One run per soak row (its RSS and fds over minutes are the measurement).
  for (const c of soakCases) await freshServerRun(0, c, measureSoak);

  for (const server of live.values()) await server.stop();
  live.clear();

  // Aggregate: medians and spreads per row, ratios pair by pair within each run.
  const caseReports = [];
  for (const c of cases) {
    const entry = { ...c, results: {}, ratios: [] };
    if (c.kind === 'h3') {
      caseReports.push(entry);
      continue;
    }
    for (const rowId of c.rows) {
      const runs = results[c.id]?.[rowId] ?? [];
      entry.results[rowId] = { label: ROWS[rowId].label, runs, summary: summarizeRow(c.kind, runs) };
    }
    const metrics = {
      echo: ['msgsPerSec', 'cpuUsPerMsg', 'msgsPerCpuSec', 'p50Ms', 'p99Ms'],
      handshake: ['perSec', 'cpuUsPerHandshake'],
      receiver: ['msPerPayload', 'nsPerByte'],
    }[c.kind] ?? ['bytesPerConn'];
    for (const pair of GROUPS[c.group].pairs) {
      if (!c.rows.includes(pair.a) || !c.rows.includes(pair.b)) continue;
      const ratios = {};
      for (const metric of metrics) ratios[metric] = pairRatio(results[c.id]?.[pair.a], results[c.id]?.[pair.b], metric);
      entry.ratios.push({ a: pair.a, b: pair.b, info: Boolean(pair.info), ratios });
    }
    caseReports.push(entry);
  }

  const targets = [];
  for (const t of targetDefinitions()) {
    const bCase = t.bCase ?? t.case;
    const aRuns = results[t.case]?.[t.a];
    const bRuns = results[bCase]?.[t.b];
    if (!aRuns || !bRuns) continue;
    const ratio = pairRatio(aRuns, bRuns, t.metric);
    const pass = ratio.median === undefined ? null : t.compare === '<=' ? ratio.median <= t.threshold : ratio.median >= t.threshold;
    const clientBound = [...aRuns, ...bRuns].some((r) => (r?.clientCpuPct ?? 0) >= 0.9);
    targets.push({ ...t, ratio, pass, clientBound, a: t.a, b: t.b });
  }

  // Profiles (when asked): the servers have exited cleanly, so V8 wrote them.
  const profiles = [];
  if (profileDir && existsSync(profileDir)) {
    for (const file of readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'))) {
      const full = path.join(profileDir, file);
      if (!options.profile.some((name) => file.startsWith(`${name}-`))) continue;
      const summary = summarizeProfile(full, { root });
      profiles.push(summary);
      console.log(`\n${formatProfile(summary)}`);
    }
  }

  const report = {
    schema: 1,
    generatedBy: `node scripts/bench/run.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    machine,
    options: { quick: options.quick, only: options.only, runs: options.runs, retries: options.retries, retryBudgetSec: options.retryBudget, quietWaitSec: options.quietWait, noiseCores: options.noise, warmupMs: options.warmup, durationMs: options.duration, memConns: options.memConns, memRuns: options.memRuns, soakSeconds: options.soakSeconds, soakConns: options.soakConns },
    elapsedSec: (performance.now() - started) / 1000,
    waitedForQuietSec: quietWaitMs / 1000,
    retriesSec: retrySpentMs / 1000,
    rows: Object.fromEntries(Object.entries(ROWS).map(([id, row]) => [id, { ...row }])),
    servers: serverInfo,
    cases: caseReports,
    targets,
    h3: h3,
    notes: [...notes, ...(noisyRuns.length > 0 ? [`windows still disturbed by other processes after ${options.retries} retries: ${noisyRuns.join('; ')}`] : [])],
    failures,
    profiles,
  };

  console.log('\nTargets (issue #5):');
  for (const t of targets) {
    const r = t.ratio;
    const mark = t.pass === null ? '  n/a' : t.pass ? ' PASS' : ' MISS';
    console.log(`${mark}  ${r.median?.toFixed(3) ?? '—'} (${r.min?.toFixed(3) ?? '—'}–${r.max?.toFixed(3) ?? '—'}) ${t.compare} ${shortNumber(t.threshold)}  ${t.text}${t.clientBound ? '  [load generator saturated in a run]' : ''}`);
  }
  console.log(`\n${h3.reason}`);

  if (outDir) {
    mkdirSync(outDir, { recursive: true });
    writeFileSync(path.join(outDir, 'benchmarks.json'), JSON.stringify(report, null, 1) + '\n');
    writeFileSync(path.join(outDir, 'benchmarks.md'), renderMarkdown(report, separateRows(outDir)));
    writeFileSync(path.join(outDir, 'benchmarks.svg'), renderSvg(report));
    console.log(`\nbench: wrote ${path.relative(root, outDir) || '.'}/benchmarks.{json,md,svg}`);
  }
  console.log(`bench: ${((performance.now() - started) / 1000).toFixed(0)} s`);
  if (failures.length > 0) {
    console.error(`\nbench: ${failures.length} failure(s):`);
    for (const failure of failures.slice(0, 30)) console.error(`  - ${failure}`);
    return 1;
  }
  return 0;
}

const allServers = new Set();
function killAll() {
  for (const server of allServers) {
    if (!server.exited && server.pid) {
      try {
        process.kill(server.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}
process.on('exit', killAll);
process.on('SIGINT', () => {
  killAll();
  process.exit(130);
});

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`bench: ${error?.stack ?? error}`);
    killAll();
    process.exit(1);
  },
);

