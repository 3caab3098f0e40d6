import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { ClusterRelay } from '../pubsub/cluster-relay.js';

/** A worker tells the primary it is listening on every port. */
export const WORKER_READY = { trident: 'worker-ready' } as const;

/** The worker number (1..N) of this process, or null outside `--workers`. */
export function workerId(): number | null {
  const id = Number(process.env.TRIDENT_WORKER_ID);
  return cluster.isWorker && Number.isInteger(id) ? id : null;
}

/**
 * Kernel port reuse for UDP (`dgram` `reusePort`) came with Node 22.12 and
 * 23.1: each worker then binds its own socket on the HTTP/3 port and Linux
 * spreads flows by their address 4-tuple, so one QUIC connection's datagrams
 * keep reaching the worker that holds it. Older Node (20) has no way to
 * share a UDP port between processes this way: worker 1 alone serves HTTP/3.
 */
export function udpReusePortSupported(version = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major >= 23 ? major > 23 || minor >= 1 : major === 22 && minor >= 12;
}

/** Restarts allowed per slot within RESTART_WINDOW_MS before they are spaced out. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;

export interface PrimaryOptions {
  workers: number;
  logger: Logger;
  /** The primary relays rooms between workers (no Redis configured). */
  relayRooms: boolean;
  /** How long workers get to shut down after SIGTERM before they are killed. */
  shutdownMs: number;
  exit(code: number): void;
}

/**
 * The primary of `trident serve --workers N`: forks the workers, which accept
 * TCP through node:cluster (the primary hands out connections round-robin)
 * and bind their own UDP sockets for HTTP/3; relays rooms between them when
 * there is no Redis; restarts a worker that died (logged, at most MAX_RESTARTS
 * per minute per slot, then one per RESTART_WINDOW_MS / MAX_RESTARTS); and
 * on SIGTERM/SIGINT asks every worker to shut down gracefully (1001 and
 * GOAWAY, as a single process does) and exits once they all have.
 */
export function runPrimary(options: PrimaryOptions): void {
  const { logger } = options;
  // Buffers cross IPC as bytes (structured clone), not as JSON number arrays.
  cluster.setupPrimary({ serialization: 'advanced' });
  const relay = options.relayRooms ? new ClusterRelay(logger) : null;
  const restarts = new Map<number, number[]>();
  const slots = new Map<Worker, number>();
  let starting = options.workers;
  let stopping = false;
  let exitCode = 0;

  const fork = (slot: number): void => {
    const worker = cluster.fork({ TRIDENT_WORKER_ID: String(slot) });
    slots.set(worker, slot);
    relay?.attach(worker, slot);
    let ready = false;
    worker.on('message', (message: unknown) => {
      if ((message as { trident?: unknown } | null)?.trident !== WORKER_READY.trident || ready) return;
      ready = true;
      logger.info({ worker: slot, pid: worker.process.pid }, 'worker ready');
      if (starting > 0 && --starting === 0) logger.info({ workers: options.workers }, 'all workers ready');
    });
    worker.once('exit', (code, signal) => {
      slots.delete(worker);
      if (stopping) {
        if (code !== 0) exitCode = 1;
        if (slots.size === 0) options.exit(exitCode);
        return;
      }
      if (!ready && starting > 0) {
        // A worker that cannot start (a port in use, Redis unreachable) would fail again: stop.
        logger.error({ worker: slot, code, signal }, 'worker failed to start: stopping');
        stop('worker failed to start', 1);
        return;
      }
      scheduleRestart(slot, code, signal);
    });
  };

  const scheduleRestart = (slot: number, code: number | null, signal: string | null): void => {
    const now = Date.now();
    const recent = (restarts.get(slot) ?? []).filter((at) => now - at < RESTART_WINDOW_MS);
    const delayMs = recent.length < MAX_RESTARTS ? 0 : RESTART_WINDOW_MS / MAX_RESTARTS;
    recent.push(now + delayMs);
    restarts.set(slot, recent);
    logger.error({ worker: slot, code, signal, restartInMs: delayMs }, 'worker died: restarting it');
    setTimeout(() => {
      if (!stopping) fork(slot);
    }, delayMs).unref();
  };

  const stop = (reason: string, code = 0): void => {
    if (stopping) {
      logger.warn({ reason }, 'second signal: killing the workers');
      for (const worker of slots.keys()) worker.process.kill('SIGKILL');
      options.exit(1);
      return;
    }
    stopping = true;
    exitCode = code;
    logger.info({ reason, workers: slots.size }, 'shutting down the workers');
    if (slots.size === 0) options.exit(exitCode);
    for (const worker of slots.keys()) worker.process.kill('SIGTERM');
    setTimeout(() => {
      logger.error({ ms: options.shutdownMs }, 'workers did not stop in time: killing them');
      for (const worker of slots.keys()) worker.process.kill('SIGKILL');
      options.exit(1);
    }, options.shutdownMs).unref();
  };

  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  for (let slot = 1; slot <= options.workers; slot++) fork(slot);
}
