// The load generator. Per connection: a fixed window of pre-built masked
// frames in flight; replies are counted by parsing frame headers
// incrementally (payload bytes are skipped, or compared on a sample), and each
// completed reply sends one more pre-built frame. Nothing is allocated per
// message on the HTTP/1.1 path.
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CLOSE_FRAME,
  MessageDecoder,
  OP_BINARY,
  OP_CLOSE,
  OP_CONTINUATION,
  OP_TEXT,
  buildBatches,
  deflateMessage,
  headerLength,
  makePayload,
  maskedFrame,
} from './frames.mjs';
import { closeH3Session, openH3Session, openH3Stream, resetH3Stream } from './h3.mjs';
import { backgroundCores, machineBusyUs } from './system.mjs';
import { closeWatcher, destroySession, openH1, openH2Session, openH2Stream, h1Lifetime, h2Lifetime, resetSocket, resetStream } from './transports.mjs';

const LATENCY_CAPACITY = 1 << 21;

/** What all connections of one measurement share: the frames, the counters, the checks. */
export class Load {
  constructor(plan, { window, raw = false, verifyEvery = 64 }) {
    this.plan = plan;
    this.window = window;
    this.batches = buildBatches(plan.frame, window);
    this.raw = raw;
    // Raw echo servers send our masked frames back as they are.
    this.expectMasked = raw;
    this.expected = raw ? plan.wirePayload : plan.payload;
    this.expectLength = this.expected.length;
    this.verifyEvery = verifyEvery;
    this.running = false;
    this.counting = false;
    this.msgs = 0;
    this.total = 0;
    this.seen = 0;
    this.checked = 0;
    this.mismatches = 0;
    this.latency = new Float64Array(LATENCY_CAPACITY);
    this.latencyCount = 0;
    this.errors = [];
  }

  error(message) {
    if (this.errors.length < 20) this.errors.push(message);
  }
}

export class EchoConn {
  constructor(load, out) {
    this.load = load;
    this.out = out;
    this.header = Buffer.allocUnsafe(14);
    this.headerFill = 0;
    this.inPayload = false;
    this.remaining = 0;
    this.opcode = 0;
    this.fin = false;
    this.verifying = false;
    this.verifyAt = 0;
    this.sentAt = new Float64Array(load.window);
    this.sentHead = 0;
    this.sentTail = 0;
    this.inflight = 0;
    this.windowReplies = 0;
    this.dead = false;
  }

  /** Puts `count` more messages in flight with one write of a pre-built batch. */
  send(count) {
    const now = performance.now();
    const ring = this.sentAt;
    for (let i = 0; i < count; i++) {
      ring[this.sentTail] = now;
      if (++this.sentTail === ring.length) this.sentTail = 0;
    }
    this.inflight += count;
    this.out.write(this.load.batches[count]);
  }

  start() {
    this.send(this.load.window);
  }

  onData(chunk) {
    const length = chunk.length;
    let offset = 0;
    let done = 0;
    while (offset < length) {
      if (this.inPayload) {
        let n = length - offset;
        if (n > this.remaining) n = this.remaining;
        if (this.verifying) this.verifySegment(chunk, offset, n);
        this.remaining -= n;
        offset += n;
        if (this.remaining === 0) {
          this.inPayload = false;
          if (this.frameEnd()) done++;
        }
        continue;
      }
      if (this.headerFill === 0 && length - offset >= 2) {
        const hLength = headerLength(chunk[offset + 1]);
        if (length - offset >= hLength) {
          this.frameStart(chunk, offset);
          offset += hLength;
          if (!this.inPayload && this.frameEnd()) done++;
          continue;
        }
      }
      // A header split across chunks: gather it byte by byte.
      this.header[this.headerFill++] = chunk[offset++];
      if (this.headerFill >= 2 && this.headerFill === headerLength(this.header[1])) {
        this.headerFill = 0;
        this.frameStart(this.header, 0);
        if (!this.inPayload && this.frameEnd()) done++;
      }
    }
    if (done > 0) this.completed(done);
  }

  frameStart(buffer, at) {
    const load = this.load;
    const b0 = buffer[at];
    const b1 = buffer[at + 1];
    const length7 = b1 & 0x7f;
    let payloadLength = length7;
    if (length7 === 126) payloadLength = buffer.readUInt16BE(at + 2);
    else if (length7 === 127) payloadLength = buffer.readUInt32BE(at + 2) * 0x100000000 + buffer.readUInt32BE(at + 6);
    this.opcode = b0 & 0x0f;
    this.fin = (b0 & 0x80) !== 0;
    this.remaining = payloadLength;
    this.inPayload = payloadLength > 0;
    if (((b1 & 0x80) !== 0) !== load.expectMasked) load.error(`reply frame mask bit ${(b1 & 0x80) !== 0}, expected ${load.expectMasked}`);
    if (this.opcode === OP_BINARY || this.opcode === OP_TEXT) {
      if (this.opcode !== load.plan.opcode) load.error(`reply opcode ${this.opcode}, expected ${load.plan.opcode}`);
      const compressed = (b0 & 0x40) !== 0;
      if (!compressed) {
        // Uncompressed replies carry exactly the payload; compare every n-th one byte for byte.
        if (this.fin && payloadLength !== load.expectLength) load.error(`reply of ${payloadLength} bytes, expected ${load.expectLength}`);
        if (load.seen++ % load.verifyEvery === 0) {
          this.verifying = true;
          this.verifyAt = 0;
          load.checked++;
        }
      }
    }
  }

  verifySegment(chunk, offset, n) {
    const load = this.load;
    if (this.verifyAt + n > load.expectLength || chunk.compare(load.expected, this.verifyAt, this.verifyAt + n, offset, offset + n) !== 0) {
      load.mismatches++;
      this.verifying = false;
      return;
    }
    this.verifyAt += n;
  }

  /** Returns true when the frame that just ended completed a message. */
  frameEnd() {
    this.verifying = false;
    const opcode = this.opcode;
    if (opcode === OP_BINARY || opcode === OP_TEXT || opcode === OP_CONTINUATION) return this.fin;
    if (opcode === OP_CLOSE && !this.load.raw) {
      this.dead = true;
      if (this.load.running) this.load.error('server sent a close frame during the echo');
    }
    return false;
  }

  completed(done) {
    const load = this.load;
    this.inflight -= done;
    if (this.inflight < 0) {
      load.error('more replies than messages sent');
      this.inflight = 0;
    }
    load.total += done;
    const ring = this.sentAt;
    if (load.counting) {
      load.msgs += done;
      this.windowReplies += done;
      const now = performance.now();
      for (let i = 0; i < done; i++) {
        if (load.latencyCount < LATENCY_CAPACITY) load.latency[load.latencyCount++] = now - ring[this.sentHead];
        if (++this.sentHead === ring.length) this.sentHead = 0;
      }
    } else {
      this.sentHead = (this.sentHead + done) % ring.length;
    }
    if (load.running && !this.dead) this.send(done);
  }
}

/** Runs `task(i)` for i < count with at most `limit` at once; stops at the first failure. */
async function pool(count, limit, task) {
  let next = 0;
  let failure = null;
  const worker = async () => {
    while (failure === null && next < count) {
      const i = next++;
      try {
        await task(i);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  if (failure) throw failure;
}

/**
 * Opens `conns` echo connections (HTTP/1.1: one socket each; HTTP/2: streams
 * spread over `sessions` connections). Returns { conns, close() }.
 */
export async function openConnections(load, row, target, { conns, sessions = 1, deflate = false, onUnexpectedClose, tolerant = false }) {
  const list = [];
  const closers = [];
  let closing = false;
  const closeAll = () => {
    closing = true;
    for (const close of closers) close();
  };
  try {
    await openAll();
  } catch (error) {
    // Keep what opened when asked to (memory test at the machine's limit), else close it all.
    if (!tolerant || list.length === 0) {
      closeAll();
      throw error;
    }
    return { conns: list, close: closeAll, error: String(error.message ?? error) };
  }
  return { conns: list, close: closeAll, error: null };

  async function openAll() {
    if (row.transport === 'h1' || row.transport === 'h1tls') {
      await pool(conns, 200, async () => {
        const { socket, rest } = await openH1(target, { deflate });
        const conn = new EchoConn(load, socket);
        list.push(conn);
        closers.push(() => resetSocket(socket));
        socket.on('data', (chunk) => conn.onData(chunk));
        socket.on('error', () => {});
        socket.once('close', () => {
          conn.dead = true;
          if (!closing) onUnexpectedClose?.('connection closed by the server');
        });
        if (rest.length > 0) conn.onData(rest);
        socket.resume();
      });
    } else if (row.transport === 'h2') {
      const h2sessions = [];
      await pool(sessions, sessions, async () => {
        const session = await openH2Session(target);
        h2sessions.push(session);
        closers.push(() => destroySession(session));
        session.on('close', () => {
          if (!closing) onUnexpectedClose?.('HTTP/2 connection closed');
        });
      });
      await pool(conns, 200, async (i) => {
        const { stream } = await openH2Stream(h2sessions[i % h2sessions.length], target, { deflate });
        const conn = new EchoConn(load, stream);
        list.push(conn);
        closers.unshift(() => resetStream(stream));
        stream.on('data', (chunk) => conn.onData(chunk));
        stream.once('close', () => {
          conn.dead = true;
          if (!closing) onUnexpectedClose?.(`stream closed (code ${stream.rstCode})`);
        });
      });
    } else if (row.transport === 'h3') {
      const h3sessions = [];
      await pool(sessions, sessions, async () => {
        const session = await openH3Session(target, { quic: row.quic });
        h3sessions.push(session);
        closers.push(() => closeH3Session(session));
        session.on('close', () => {
          if (!closing) onUnexpectedClose?.('HTTP/3 connection closed');
        });
      });
      await pool(conns, 200, async (i) => {
        const { stream } = await openH3Stream(h3sessions[i % h3sessions.length], target, { deflate });
        const conn = new EchoConn(load, stream);
        list.push(conn);
        closers.unshift(() => resetH3Stream(stream));
        stream.on('data', (chunk) => conn.onData(chunk));
        stream.once('close', () => {
          conn.dead = true;
          if (!closing) onUnexpectedClose?.('HTTP/3 stream closed');
        });
      });
    } else {
      throw new Error(`no load generator for transport ${row.transport}`);
    }
  }
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

/**
 * Echo round trips with distinct random payloads on one fresh connection, each
 * decoded completely (unmasked, reassembled, inflated) and compared with what
 * was sent. Throws on the first difference.
 */
export async function verifyEcho(row, target, { size, deflate, count }) {
  let socket = null;
  let session = null;
  let stream = null;
  let source;
  let rest = Buffer.alloc(0);
  if (row.transport === 'h2') {
    session = await openH2Session(target);
    ({ stream } = await openH2Stream(session, target, { deflate }));
    source = stream;
  } else if (row.transport === 'h3') {
    session = await openH3Session(target, { quic: row.quic });
    ({ stream } = await openH3Stream(session, target, { deflate }));
    source = stream;
  } else {
    ({ socket, rest } = await openH1(target, { deflate }));
    source = socket;
  }
  const decoder = new MessageDecoder();
  const waiting = [];
  let failure = null;
  const onMessage = (message) => {
    const next = waiting.shift();
    if (next) next.resolve(message);
    else failure ??= new Error('unexpected extra message');
  };
  const onError = (error) => {
    failure ??= error;
    waiting.shift()?.reject(error);
  };
  source.on('data', (chunk) => decoder.push(chunk, onMessage, onError));
  source.on('error', () => {});
  if (rest.length > 0) decoder.push(rest, onMessage, onError);
  socket?.resume();
  try {
    for (let i = 0; i < count; i++) {
      const payload = makePayload(size, deflate ? 'text' : 'binary', 1000 + i);
      const opcode = deflate ? OP_TEXT : OP_BINARY;
      const frame = deflate ? maskedFrame(opcode, deflateMessage(payload), { rsv1: true }) : maskedFrame(opcode, payload);
      const reply = new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no echo within 10 s')), 10000);
        waiting.push({
          resolve: (message) => (clearTimeout(timer), resolve(message)),
          reject: (error) => (clearTimeout(timer), reject(error)),
        });
      });
      source.write(frame);
      const message = await reply;
      if (failure) throw failure;
      if (message.opcode !== opcode) throw new Error(`echo ${i}: opcode ${message.opcode}, sent ${opcode}`);
      if (!message.data.equals(payload)) {
        throw new Error(`echo ${i}: ${message.data.length} bytes differ from the ${payload.length} sent (compressed reply: ${message.compressed})`);
      }
    }
  } finally {
    decoder.close();
    if (stream && row.transport === 'h3') {
      resetH3Stream(stream);
      closeH3Session(session);
    } else if (stream) {
      stream.write(CLOSE_FRAME);
      resetStream(stream);
      destroySession(session);
    } else {
      socket.write(CLOSE_FRAME);
      resetSocket(socket);
    }
  }
}

/**
 * One echo measurement: connect, warm up, then count replies over a fixed
 * window while the server measures its own CPU time over the same window.
 */
export async function runEcho({ row, server, target, size, conns, sessions, window, warmupMs, durationMs, plan, verifyCount, phases = {} }) {
  const verify0 = performance.now();
  await verifyEcho(row, target, { size, deflate: Boolean(row.deflate), count: verifyCount });
  phases.verifyMs = performance.now() - verify0;
  const load = new Load(plan, { window, raw: Boolean(row.raw) });
  const unexpected = [];
  const setup0 = performance.now();
  const opened = await openConnections(load, row, target, {
    conns,
    sessions,
    deflate: Boolean(row.deflate),
    onUnexpectedClose: (why) => unexpected.length < 5 && unexpected.push(why),
  });
  const setupMs = performance.now() - setup0;
  try {
    load.running = true;
    for (const conn of opened.conns) conn.start();
    await sleep(warmupMs);
    await server.request('cpu-start');
    for (const conn of opened.conns) conn.windowReplies = 0;
    load.msgs = 0;
    load.latencyCount = 0;
    load.counting = true;
    const cpu0 = process.cpuUsage();
    const elu0 = performance.eventLoopUtilization();
    const busy0 = machineBusyUs();
    const t0 = performance.now();
    await sleep(durationMs);
    load.counting = false;
    const wallMs = performance.now() - t0;
    const busy1 = machineBusyUs();
    const msgs = load.msgs;
    const clientCpu = process.cpuUsage(cpu0);
    const elu = performance.eventLoopUtilization(elu0);
    const serverCpu = await server.request('cpu-stop');
    load.running = false;
    const latencies = load.latency.subarray(0, load.latencyCount).sort();
    let starved = 0;
    let minReplies = Infinity;
    let maxReplies = 0;
    for (const conn of opened.conns) {
      if (conn.windowReplies === 0) starved++;
      minReplies = Math.min(minReplies, conn.windowReplies);
      maxReplies = Math.max(maxReplies, conn.windowReplies);
    }
    // The server's window is offset by the IPC round trips; scale it to ours.
    const serverCpuUs = ((serverCpu.user + serverCpu.system) * wallMs) / Math.max(1, serverCpu.wallMs);
    const clientCpuUs = clientCpu.user + clientCpu.system;
    if (unexpected.length > 0) load.error(`connections closed during the echo: ${unexpected.join('; ')}`);
    if (load.mismatches > 0) load.error(`${load.mismatches} of ${load.checked} sampled replies differ from what was sent`);
    if (msgs === 0) load.error('no reply at all in the measurement window');
    return {
      msgs,
      wallMs,
      setupMs,
      msgsPerSec: (msgs / wallMs) * 1000,
      mbPerSec: (msgs * size) / wallMs / 1000,
      serverCpuUs,
      serverCpuPct: serverCpuUs / (wallMs * 1000),
      cpuUsPerMsg: msgs > 0 ? serverCpuUs / msgs : null,
      msgsPerCpuSec: serverCpuUs > 0 ? msgs / (serverCpuUs / 1e6) : null,
      clientCpuPct: clientCpuUs / (wallMs * 1000),
      clientEventLoopUtilization: elu.utilization,
      backgroundCores: backgroundCores(busy0, busy1, serverCpuUs + clientCpuUs, wallMs),
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      latencySamples: latencies.length,
      starvedConns: starved,
      repliesPerConn: { min: minReplies, max: maxReplies },
      sampledChecks: load.checked,
      errors: load.errors,
    };
  } finally {
    load.running = false;
    const teardown0 = performance.now();
    // Let the messages in flight come back first: an HTTP/2 server whose streams are all
    // blocked on flow control does not notice its client going away (see docs/benchmarks.md).
    if (row.transport === 'h2' || row.transport === 'h3') await waitFor(() => opened.conns.every((conn) => conn.inflight === 0 || conn.dead), 3000);
    opened.close();
    await server.waitConnections(0, 5000).catch(() => {});
    phases.teardownMs = performance.now() - teardown0;
  }
}

/**
 * Handshakes per second: whole WebSocket lifetimes (open + close handshake +
 * transport closed), `concurrency` at a time, for a fixed time (and at most
 * `maxCount`). HTTP/2: streams on one already open connection.
 */
export async function runHandshakes({ row, server, target, concurrency, durationMs, warmupMs, maxCount = 200000 }) {
  let session = null;
  if (row.transport === 'h2') session = await openH2Session(target);
  if (row.transport === 'h3') session = await openH3Session(target, { quic: row.quic });
  const lifetime =
    row.transport === 'h3' ? () => h3Lifetime(session, target) : session ? () => h2Lifetime(session, target) : () => h1Lifetime(target);
  const errors = [];
  try {
    const drive = async (until, counter) => {
      await pool(concurrency, concurrency, async () => {
        while (performance.now() < until && counter.n < maxCount) {
          await lifetime();
          counter.n++;
        }
      });
    };
    await drive(performance.now() + warmupMs, { n: 0 });
    await server.request('cpu-start');
    const counter = { n: 0 };
    const cpu0 = process.cpuUsage();
    const busy0 = machineBusyUs();
    const t0 = performance.now();
    await drive(t0 + durationMs, counter);
    const wallMs = performance.now() - t0;
    const busy1 = machineBusyUs();
    const clientCpu = process.cpuUsage(cpu0);
    const serverCpu = await server.request('cpu-stop');
    const serverCpuUs = ((serverCpu.user + serverCpu.system) * wallMs) / Math.max(1, serverCpu.wallMs);
    const clientCpuUs = clientCpu.user + clientCpu.system;
    return {
      handshakes: counter.n,
      wallMs,
      perSec: (counter.n / wallMs) * 1000,
      serverCpuPct: serverCpuUs / (wallMs * 1000),
      cpuUsPerHandshake: counter.n > 0 ? serverCpuUs / counter.n : null,
      clientCpuPct: clientCpuUs / (wallMs * 1000),
      backgroundCores: backgroundCores(busy0, busy1, serverCpuUs + clientCpuUs, wallMs),
      errors,
    };
  } catch (error) {
    errors.push(String(error.message ?? error));
    return { handshakes: 0, perSec: 0, errors };
  } finally {
    if (session && row.transport === 'h3') closeH3Session(session);
    else if (session) destroySession(session);
    await server.waitConnections(0, 5000).catch(() => {});
  }
}

/**
 * Memory per idle connection: server RSS (after GC) with `conns` idle
 * WebSockets open, minus the RSS before, divided by `conns`. Each connection
 * completes its handshake and one echo of `size` bytes (default 64), then stays idle. The server is
 * warmed up first (code loaded, pools created) so only per-connection memory
 * is counted. If fewer connections can be opened, the largest count reached is used.
 */
export async function runMemory({ row, server, target, conns, size = 64, streamsPerSession = 1000, settleMs = 1000 }) {
  const plan = (await import('./frames.mjs')).messagePlan(size, { deflate: Boolean(row.deflate) });
  const warm = new Load(plan, { window: 1, raw: Boolean(row.raw) });
  const sessionsFor = (n) => Math.max(1, Math.ceil(n / streamsPerSession));
  const warmOpen = await openConnections(warm, row, target, { conns: 200, sessions: sessionsFor(200), deflate: Boolean(row.deflate) });
  for (const conn of warmOpen.conns) conn.start();
  await waitFor(() => warm.total >= warmOpen.conns.length, 10000);
  warmOpen.close();
  await server.waitConnections(0, 10000);
  await sleep(300);
  const before = await server.request('mem', 30000);

  const load = new Load(plan, { window: 1, raw: Boolean(row.raw) });
  // Out of descriptors or ports: measure with what opened (reported as such).
  const opened = await openConnections(load, row, target, { conns, sessions: sessionsFor(conns), deflate: Boolean(row.deflate), tolerant: true });
  const limitError = opened.error;
  try {
    for (const conn of opened.conns) conn.start();
    await waitFor(() => load.total >= opened.conns.length, 30000);
    const serverCount = await server.waitConnections(opened.conns.length, 10000);
    await sleep(settleMs);
    const after = await server.request('mem', 60000);
    const n = opened.conns.length;
    return {
      requested: conns,
      conns: n,
      serverConnections: serverCount,
      limitError,
      echoed: load.total,
      rssBefore: before.rss,
      rssAfter: after.rss,
      bytesPerConn: (after.rss - before.rss) / n,
      heapBytesPerConn: (after.heapUsed - before.heapUsed) / n,
      externalBytesPerConn: (after.external - before.external) / n,
      errors: [...load.errors, ...(load.total < n ? [`only ${load.total} of ${n} connections echoed`] : []), ...(serverCount !== n ? [`server counts ${serverCount} connections, client ${n}`] : [])],
    };
  } finally {
    opened.close();
    await server.waitConnections(0, 15000).catch(() => {});
  }
}

/** One WebSocket lifetime over HTTP/3: extended CONNECT, close frames both ways, FIN both ways. */
function h3Lifetime(session, target, { timeoutMs = 10000 } = {}) {
  return openH3Stream(session, target, { timeoutMs }).then(
    ({ stream }) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          resetH3Stream(stream);
          reject(new Error('HTTP/3 close handshake timed out'));
        }, timeoutMs);
        const watcher = closeWatcher(() => stream.end());
        stream.on('data', watcher.feed);
        stream.once('close', () => {
          clearTimeout(timer);
          if (watcher.seen()) resolve();
          else reject(new Error('HTTP/3 stream closed without a close frame'));
        });
        stream.write(CLOSE_FRAME);
      }),
  );
}

export async function waitFor(predicate, timeoutMs) {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}
