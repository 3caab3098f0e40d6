// Shared plumbing of the servers under test: configuration from the
// environment, the control channel to the benchmark (IPC), and a bounded
// lifetime. Every server listens on 127.0.0.1 only.
import { readFileSync } from 'node:fs';

export const HOST = '127.0.0.1';

/** The configuration the benchmark passed (JSON in BENCH_SERVER_CONFIG). */
export const config = JSON.parse(process.env.BENCH_SERVER_CONFIG || '{}');

export function tlsOptions() {
  if (!config.cert || !config.key) throw new Error('TLS server started without cert/key paths');
  return { cert: readFileSync(config.cert), key: readFileSync(config.key) };
}

// Never outlive the benchmark: exit when it disconnects or after a hard cap.
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
setTimeout(() => process.exit(3), (config.maxLifetimeSec ?? 1800) * 1000).unref();

/**
 * Answers the benchmark's requests:
 * - cpu-start / cpu-stop: process.cpuUsage() delta (all threads: zlib pool, GC) over the window;
 * - stats: open WebSocket (or echo) connections;
 * - mem: memory after two full GCs (the server runs with --expose-gc);
 * - exit: a clean exit, so that --cpu-prof writes its profile.
 * Then reports 'ready' with the port and whatever `info` describes.
 */
export function serveControl({ port, connections, info = {} }) {
  let base = null;
  let wallStart = 0;
  process.on('message', (message) => {
    const reply = (body) => process.send?.({ id: message.id, ...body });
    switch (message.cmd) {
      case 'cpu-start':
        base = process.cpuUsage();
        wallStart = performance.now();
        reply({ ok: true });
        break;
      case 'cpu-stop': {
        const delta = base ? process.cpuUsage(base) : { user: 0, system: 0 };
        reply({ user: delta.user, system: delta.system, wallMs: performance.now() - wallStart, connections: connections() });
        base = null;
        break;
      }
      case 'stats':
        reply({ connections: connections() });
        break;
      case 'mem': {
        if (typeof globalThis.gc === 'function') {
          globalThis.gc();
          globalThis.gc();
        }
        reply({ ...process.memoryUsage(), connections: connections() });
        break;
      }
      case 'heap-snapshot': {
        // Diagnostics (memory-breakdown.mjs): a V8 heap snapshot written next to the benchmark's output.
        globalThis.gc?.();
        import('node:v8').then((v8) => reply({ file: v8.writeHeapSnapshot(message.file) }));
        break;
      }
      case 'exit':
        reply({ ok: true });
        setImmediate(() => process.exit(0));
        break;
      default:
        reply({ error: `unknown command ${message.cmd}` });
    }
  });
  process.send?.({ type: 'ready', port, pid: process.pid, node: process.version, ...info });
}
