// The servers under test, each its own process (child_process.spawn of a
// script in scripts/bench/servers/), pinned to core 0 with taskset when it
// exists. They report CPU and memory of their own process over IPC.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SERVER_DIR = path.join(here, '..', 'servers');

/** QUIC datagrams no bigger than on an Internet path, even to a loopback peer. */
export const INTERNET_PACKETS = { maxPacketSize: 1350, loopbackPacketSize: 1350 };

/** Per-address QUIC admission limits as high as the server-wide defaults, for a load generator on one address. */
export const SOAK_QUIC_ADMISSION = { maxHandshakesPerAddress: 1000, retryRatePerAddress: 1000 };

/** Processes: one script and its configuration each. */
export const SERVER_PROCESSES = {
  trident: { script: 'trident.mjs', config: {} },
  'trident-tls': { script: 'trident.mjs', config: { tls: true } },
  'trident-deflate': { script: 'trident.mjs', config: { deflate: true } },
  // The same with Prometheus metrics on (issue 14): the cost of the counters on the hot path.
  'trident-metrics': { script: 'trident.mjs', config: { metrics: true } },
  'trident-deflate-metrics': { script: 'trident.mjs', config: { deflate: true, metrics: true } },
  ws: { script: 'ws.mjs', config: {} },
  'ws-tls': { script: 'ws.mjs', config: { tls: true } },
  'ws-deflate': { script: 'ws.mjs', config: { deflate: true } },
  // Both directions without context takeover (RFC 7692 §7.1.1): no zlib state between messages.
  'trident-deflate-nct': { script: 'trident.mjs', config: { deflate: 'no-context-takeover' } },
  'ws-deflate-nct': { script: 'ws.mjs', config: { deflate: 'no-context-takeover' } },
  'raw-tcp': { script: 'raw-tcp.mjs', config: {} },
  'raw-h2': { script: 'raw-h2.mjs', config: { tls: true } },
  // TLS port with an HTTP/3 twin on UDP (RFC 9220), see h3.mjs.
  'trident-h3': { script: 'trident.mjs', config: { tls: true, h3: true } },
  'trident-h3-1350': { script: 'trident.mjs', config: { tls: true, h3: INTERNET_PACKETS } },
  // The soak: every QUIC connection of the load generator comes from 127.0.0.1, so the
  // per-address handshake and Retry budgets (100 and 100/s by default, README's http3
  // table) are raised to the server-wide ones; the soak measures leaks, not admission.
  'trident-h3-soak': { script: 'trident.mjs', config: { tls: true, h3: SOAK_QUIC_ADMISSION } },
  // Fan-out (scripts/bench/fanout.mjs): one publisher, many subscribers.
  'fanout-trident': { script: 'fanout.mjs', config: { impl: 'trident' } },
  'fanout-ws': { script: 'fanout.mjs', config: { impl: 'ws' } },
};

export function hasTaskset() {
  if (process.platform !== 'linux') return false;
  const result = spawnSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
  return result.status === 0;
}

/** Pins this process (all its threads) to `core`. */
export function pinSelf(core) {
  const result = spawnSync('taskset', ['-a', '-p', '-c', String(core), String(process.pid)], { encoding: 'utf8' });
  return result.status === 0;
}

let nextRequestId = 1;

export class ServerProcess {
  /**
   * @param name key of SERVER_PROCESSES
   * @param options { pinCore: number|null, certs: {cert,key}, cpuProfDir?: string, onCrash(server, description) }
   */
  constructor(name, options) {
    const spec = SERVER_PROCESSES[name];
    if (!spec) throw new Error(`unknown server process ${name}`);
    this.name = name;
    this.spec = spec;
    this.options = options;
    this.pending = new Map();
    this.output = [];
    this.stopping = false;
    this.exited = false;
    this.info = null;
  }

  start(timeoutMs = 20000) {
    const { pinCore, certs, cpuProfDir } = this.options;
    const nodeArgs = ['--expose-gc'];
    if (cpuProfDir) {
      mkdirSync(cpuProfDir, { recursive: true });
      nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`, `--cpu-prof-name=${this.name}-${Date.now()}.cpuprofile`);
    }
    nodeArgs.push(path.join(SERVER_DIR, this.spec.script));
    const command = pinCore === null ? process.execPath : 'taskset';
    const args = pinCore === null ? nodeArgs : ['-c', String(pinCore), process.execPath, ...nodeArgs];
    const config = { ...this.spec.config, ...(this.spec.config.tls ? certs : {}) };
    this.child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, BENCH_SERVER_CONFIG: JSON.stringify(config) },
    });
    this.pid = this.child.pid;
    const keep = (data) => {
      this.output.push(...String(data).split('\n').filter(Boolean));
      if (this.output.length > 60) this.output.splice(0, this.output.length - 60);
    };
    this.child.stdout.on('data', keep);
    this.child.stderr.on('data', keep);
    this.child.on('message', (message) => {
      if (message.type === 'ready') return this.readyResolve?.(message);
      const pending = this.pending.get(message.id);
      if (pending) {
        this.pending.delete(message.id);
        clearTimeout(pending.timer);
        pending.resolve(message);
      }
    });
    this.child.on('exit', (code, signal) => {
      this.exited = true;
      const description = `${this.name} (pid ${this.pid}) exited with ${signal ?? `code ${code}`}`;
      for (const pending of this.pending.values()) {
        clearTimeout(pending.timer);
        pending.reject(new Error(description));
      }
      this.pending.clear();
      this.readyReject?.(new Error(`${description} before it was ready:\n${this.output.join('\n')}`));
      if (!this.stopping) this.options.onCrash?.(this, `${description}\n${this.output.slice(-20).join('\n')}`);
      this.exitResolve?.();
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name} not ready within ${timeoutMs} ms`)), timeoutMs);
      this.readyResolve = (message) => {
        clearTimeout(timer);
        this.readyResolve = this.readyReject = null;
        this.info = message;
        this.port = message.port;
        resolve(this);
      };
      this.readyReject = (error) => {
        clearTimeout(timer);
        reject(error);
      };
    });
  }

  request(cmd, timeoutMs = 15000, extra = {}) {
    if (this.exited) return Promise.reject(new Error(`${this.name} is not running`));
    const id = nextRequestId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: no answer to ${cmd} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.child.send({ ...extra, id, cmd });
    });
  }

  /** Waits until the server counts `count` open connections (bounded); returns the last count. */
  async waitConnections(count, timeoutMs = 5000) {
    const deadline = performance.now() + timeoutMs;
    let last = -1;
    while (performance.now() < deadline) {
      last = (await this.request('stats')).connections;
      if (last === count) return last;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return last;
  }

  /** Clean exit (so a CPU profile is written), then SIGKILL by pid after 5 s. */
  async stop() {
    if (this.exited) return;
    this.stopping = true;
    const exited = new Promise((resolve) => (this.exitResolve = resolve));
    this.request('exit', 3000).catch(() => {});
    const timer = setTimeout(() => {
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 5000);
    await exited;
    clearTimeout(timer);
  }
}
